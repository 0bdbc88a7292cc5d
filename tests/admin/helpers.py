"""Helpers for admin tests: URLs and the POST data a browser would send back for a change form."""

from django import forms
from django.contrib.admin.utils import quote
from django.urls import reverse


def admin_url(model_or_obj, view: str, *args) -> str:
    """The admin URL of a model's `changelist`/`add` view or of an object's `change`/`delete`."""
    opts = model_or_obj._meta
    if view in ("change", "delete", "history"):
        # As the admin writes it: a key like API keys' "prefix.sha512$$…" is escaped.
        args = (quote(model_or_obj.pk), *args)
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _form_data(form) -> dict:
    data = {}
    for bound in form:
        value = bound.value()
        name = bound.html_name
        if isinstance(bound.field.widget, forms.SplitDateTimeWidget):
            dates = bound.field.widget.decompress(value)
            data[f"{name}_0"], data[f"{name}_1"] = (str(part or "") for part in dates)
        elif isinstance(bound.field.widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(value)
    return data


def changeform_data(response) -> dict:
    """The POST data of a rendered admin change form, its inlines included, as displayed."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
    return data


def write_during_request(monkeypatch, model_admin, write):
    """Make the next save through `model_admin` run `write()` first: someone else (the
    gateway) writing after the admin loaded and validated the object and its inlines."""
    save_model = model_admin.save_model

    def write_then_save(request, obj, form, change):
        write()
        save_model(request, obj, form, change)

    monkeypatch.setattr(model_admin, "save_model", write_then_save)

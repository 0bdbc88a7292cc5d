"""Portal routes of the billing app (invoices, tariffs, CDRs), under /o/<org slug>/."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("billing/invoices/", views.InvoiceListView.as_view(), name="invoice-list"),
    path("billing/invoices/export.csv", views.InvoiceExportView.as_view(), name="invoice-export"),
    path("billing/invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("billing/invoices/<int:pk>/pdf/", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("billing/tariffs/", views.TariffListView.as_view(), name="tariff-list"),
    path("billing/cdrs/", views.CdrListView.as_view(), name="cdr-list"),
]

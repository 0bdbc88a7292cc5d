"""Portal routes of the billing app (invoices, tariffs, CDRs, payments), under /o/<org slug>/."""

from django.urls import path

from billing import payment_portal, views

app_name = "billing"

urlpatterns = [
    path("billing/invoices/", views.InvoiceListView.as_view(), name="invoice-list"),
    path("billing/invoices/export.csv", views.InvoiceExportView.as_view(), name="invoice-export"),
    path("billing/invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("billing/invoices/<int:pk>/pdf/", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("billing/tariffs/", views.TariffListView.as_view(), name="tariff-list"),
    path("billing/tariffs/add/", views.TariffCreateView.as_view(), name="tariff-add"),
    path("billing/tariffs/preview/", views.TariffPreviewView.as_view(), name="tariff-preview"),
    path("billing/tariffs/<int:pk>/", views.TariffEditView.as_view(), name="tariff-edit"),
    path(
        "billing/tariffs/<int:pk>/preview/",
        views.TariffPreviewView.as_view(),
        name="tariff-preview",
    ),
    path("billing/tariffs/<int:pk>/end/", views.TariffEndView.as_view(), name="tariff-end"),
    path(
        "billing/tariffs/<int:pk>/delete/", views.TariffDeleteView.as_view(), name="tariff-delete"
    ),
    path(
        "billing/tariffs/<int:pk>/assignments/",
        views.TariffAssignmentAddView.as_view(),
        name="tariff-assign",
    ),
    path(
        "billing/tariffs/<int:pk>/assignments/<int:assignment>/delete/",
        views.TariffAssignmentDeleteView.as_view(),
        name="tariff-unassign",
    ),
    path("billing/cdrs/", views.CdrListView.as_view(), name="cdr-list"),
    path("billing/payments/", payment_portal.PaymentListView.as_view(), name="payment-list"),
    path("billing/payouts/", payment_portal.PayoutListView.as_view(), name="payout-list"),
    path(
        "billing/payments/export.csv",
        payment_portal.PaymentExportView.as_view(),
        name="payment-export",
    ),
    path(
        "billing/payments/<int:pk>/",
        payment_portal.PaymentDetailView.as_view(),
        name="payment-detail",
    ),
    path(
        "billing/payments/<int:pk>/refund/",
        payment_portal.PaymentRefundView.as_view(),
        name="payment-refund",
    ),
    path(
        "billing/payment-account/",
        payment_portal.PaymentAccountView.as_view(),
        name="payment-account",
    ),
]

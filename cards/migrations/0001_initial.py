# The models moved here from the organizations app and keep its tables: this migration only
# tells Django's state about them; the database already has (or gets, from organizations 0001)
# the tables, their constraints and the access-group table of the id tokens.

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("organizations", "0004_member_invitations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessGroup",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=120, verbose_name="name")),
                        ("description", models.TextField(blank=True, verbose_name="description")),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        ("updated", models.DateTimeField(auto_now=True)),
                        ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="access_groups", to="organizations.organization")),
                    ],
                    options={
                        "db_table": "organizations_accessgroup",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="IdToken",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("uid", models.CharField(max_length=36, verbose_name="uid")),
                        ("type", models.CharField(choices=[("ISO14443", "ISO 14443 (RFID)"), ("ISO15693", "ISO 15693 (RFID)"), ("eMAID", "eMAID"), ("Central", "Central"), ("KeyCode", "Key code"), ("Local", "Local"), ("MacAddress", "MAC address"), ("NoAuthorization", "No authorization")], default="ISO14443", max_length=20, verbose_name="type")),
                        ("label", models.CharField(blank=True, max_length=120, verbose_name="label")),
                        ("holder_name", models.CharField(blank=True, max_length=200, verbose_name="holder name")),
                        ("holder_email", models.EmailField(blank=True, max_length=254, verbose_name="holder email")),
                        ("status", models.CharField(choices=[("Accepted", "Accepted"), ("Blocked", "Blocked"), ("Expired", "Expired")], default="Accepted", max_length=10, verbose_name="status")),
                        ("expires_at", models.DateTimeField(blank=True, null=True, verbose_name="expires at")),
                        ("parent_id_tag", models.CharField(blank=True, max_length=36, verbose_name="parent id tag")),
                        ("max_concurrent_transactions", models.PositiveSmallIntegerField(blank=True, default=1, help_text="Empty means unlimited.", null=True, validators=[django.core.validators.MinValueValidator(1)], verbose_name="max concurrent transactions")),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        ("updated", models.DateTimeField(auto_now=True)),
                        ("access_groups", models.ManyToManyField(blank=True, db_table="organizations_idtoken_access_groups", related_name="id_tokens", to="cards.accessgroup", verbose_name="access groups")),
                        ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="id_tokens", to="organizations.organization")),
                    ],
                    options={
                        "verbose_name": "id token",
                        "db_table": "organizations_idtoken",
                        "ordering": ["uid"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="accessgroup",
                    constraint=models.UniqueConstraint(fields=("organization", "name"), name="unique_access_group_name_per_org"),
                ),
                migrations.AddConstraint(
                    model_name="idtoken",
                    constraint=models.UniqueConstraint(fields=("organization", "uid"), name="unique_id_token_uid_per_org"),
                ),
            ],
            database_operations=[],
        ),
    ]

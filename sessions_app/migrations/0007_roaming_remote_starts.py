import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('roaming', '0003_ocpi'),
        ('sessions_app', '0006_transaction_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='chargingsession',
            name='authorization_reference',
            field=models.CharField(blank=True, max_length=36, verbose_name='authorization reference'),
        ),
        migrations.AddField(
            model_name='remotestart',
            name='roaming_partner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='remote_starts', to='roaming.roamingpartner', verbose_name='roaming partner'),
        ),
        migrations.AddField(
            model_name='reservation',
            name='roaming_partner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reservations', to='roaming.roamingpartner', verbose_name='roaming partner'),
        ),
        migrations.AddField(
            model_name='reservation',
            name='roaming_reservation_id',
            field=models.CharField(blank=True, max_length=36, verbose_name="partner's reservation id"),
        ),
    ]

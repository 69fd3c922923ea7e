from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("backup", "0003_s16_copy_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="medium",
            name="lists",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]

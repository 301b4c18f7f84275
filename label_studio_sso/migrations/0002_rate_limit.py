# The rate-limit table (see models.RateLimitRecord).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("label_studio_sso", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimitRecord",
            fields=[
                ("cache_key", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("value", models.TextField()),
                ("expires", models.DateTimeField(db_index=True)),
            ],
            options={
                "verbose_name": "SSO token API rate-limit record",
                "db_table": "label_studio_sso_rate_limit",
            },
        ),
    ]

import config.secretbox
from django.db import migrations

# Operators' secrets become Fernet tokens under PLATFORM_SECRET_KEYS (config/secretbox.py).
# The column widens to text first (a token is longer than its secret); then every stored
# secret is encrypted in place. Reversing decrypts them again.
FIELDS = ("signing_secret", "callback_secret")


def encrypt(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, signing_secret, callback_secret FROM accounts_platform")
        for pk, *values in cursor.fetchall():
            sealed = [
                v if config.secretbox.is_sealed(v) else config.secretbox.seal(v) for v in values
            ]
            cursor.execute(
                "UPDATE accounts_platform SET signing_secret = %s, callback_secret = %s"
                " WHERE id = %s",
                [*sealed, pk],
            )


def decrypt(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, signing_secret, callback_secret FROM accounts_platform")
        for pk, *values in cursor.fetchall():
            plain = [config.secretbox.unseal(v) if config.secretbox.is_sealed(v) else v for v in values]
            cursor.execute(
                "UPDATE accounts_platform SET signing_secret = %s, callback_secret = %s"
                " WHERE id = %s",
                [*plain, pk],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_operator_edge"),
    ]

    operations = [
        migrations.AlterField(
            model_name="platform",
            name="signing_secret",
            field=config.secretbox.EncryptedSecretField(
                help_text="Signs requests we send.", max_length=200, verbose_name="signing secret"
            ),
        ),
        migrations.AlterField(
            model_name="platform",
            name="callback_secret",
            field=config.secretbox.EncryptedSecretField(
                help_text="Verifies the operator's callbacks.",
                max_length=200,
                verbose_name="callback secret",
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]

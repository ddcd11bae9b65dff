from django.db import migrations

FORWARD = """
CREATE FUNCTION saring_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_refuse_update_delete
    BEFORE UPDATE OR DELETE ON moderation_auditevent
    FOR EACH ROW EXECUTE FUNCTION saring_audit_refuse_change();

CREATE TRIGGER audit_refuse_truncate
    BEFORE TRUNCATE ON moderation_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION saring_audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER audit_refuse_truncate ON moderation_auditevent;
DROP TRIGGER audit_refuse_update_delete ON moderation_auditevent;
DROP FUNCTION saring_audit_refuse_change();
"""


class Migration(migrations.Migration):
    """The database itself refuses to change or remove an audit event once written."""

    dependencies = [("moderation", "0003_roles")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

"""Keep every answer inside its battery's scale, in the database itself.

A CHECK constraint cannot look at another table, so a trigger does: it refuses a
value outside [scale_min, scale_max] of the item's battery, and NULL ("not
applicable") on an item that does not allow it. Both SQLite and PostgreSQL raise
an integrity error, which Django reports as ``IntegrityError``.
"""

from django.db import migrations

SQLITE_TRIGGER = """
CREATE TRIGGER answer_value_in_scale_{event} BEFORE {event} ON assessments_answer
FOR EACH ROW BEGIN
    SELECT RAISE(ABORT, 'answer value outside its scale')
    FROM assessments_item i
    JOIN assessments_subscale s ON s.id = i.subscale_id
    JOIN assessments_battery b ON b.id = s.battery_id
    WHERE i.id = NEW.item_id
      AND ((NEW.value IS NULL AND NOT i.allow_na)
           OR NEW.value < b.scale_min OR NEW.value > b.scale_max);
END;
"""

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION answer_value_in_scale() RETURNS trigger AS $$
DECLARE
    lo smallint; hi smallint; na boolean;
BEGIN
    SELECT b.scale_min, b.scale_max, i.allow_na INTO lo, hi, na
    FROM assessments_item i
    JOIN assessments_subscale s ON s.id = i.subscale_id
    JOIN assessments_battery b ON b.id = s.battery_id
    WHERE i.id = NEW.item_id;
    IF (NEW.value IS NULL AND NOT na) OR NEW.value < lo OR NEW.value > hi THEN
        RAISE EXCEPTION 'answer value outside its scale: item %, value %', NEW.item_id, NEW.value
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER answer_value_in_scale BEFORE INSERT OR UPDATE ON assessments_answer
FOR EACH ROW EXECUTE FUNCTION answer_value_in_scale();
"""


def create_trigger(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(SQLITE_TRIGGER.format(event=event))
    elif vendor == "postgresql":
        # A plain cursor: the function body contains % placeholders of its own.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_FUNCTION)


def drop_trigger(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS answer_value_in_scale_{event}")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS answer_value_in_scale ON assessments_answer")
        schema_editor.execute("DROP FUNCTION IF EXISTS answer_value_in_scale()")


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]

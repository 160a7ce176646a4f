from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Reminder',
            index=Index(fields=['week', 'kind', 'user_id'], name='reminder_week_kind_user'),
        ),
    ]

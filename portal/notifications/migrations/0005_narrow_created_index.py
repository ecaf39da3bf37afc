"""The outbox's ``created_at`` index narrowed to the finished rows (bench FINDINGS R-9,
2026-12-05).

Its only reader that an index serves is the purge (``tasks.purge_old_notifications``:
``created_at < cutoff`` among the rows not pending), which the narrowed index answers
exactly. A filing writes eleven pending rows: each got an entry in this index too
(eleven index insertions and ~700 bytes of WAL a filing); now the entry is written when
the worker finishes the row, by the update that writes a new entry in every other
index anyway (its ``status`` is in the pending index's condition, so it is never a
HOT update). The admin's list counts and dates every row as before (full scans); its
unfiltered page (newest first) now sorts a full scan as well.
"""


from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0004_recipient_unchecked'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='sentnotification',
            name='notification_created',
        ),
        migrations.AddIndex(
            model_name='sentnotification',
            index=models.Index(condition=models.Q(('status', 'pending'), _negated=True), fields=['created_at'], name='notification_done_created'),
        ),
    ]

"""The database tables (Tortoise ORM). Convert to sync.model dataclasses at the edge, never deeper."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

ROLES = ("doctor", "supervisor", "admin")
QUALIFICATIONS = ("licensed_physician", "assistant_physician", "village_doctor", "other")


class County(Model):
    code = fields.CharField(primary_key=True, max_length=6)
    name = fields.CharField(max_length=100)

    class Meta:
        table = "county"


class Township(Model):
    code = fields.CharField(primary_key=True, max_length=9)
    county: fields.ForeignKeyRelation[County] = fields.ForeignKeyField(
        "models.County", related_name="townships", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    # WeCom group-robot style URL the township's reminders are posted to (SPEC §11).
    webhook_url = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "township"


class Village(Model):
    code = fields.CharField(primary_key=True, max_length=12)
    township: fields.ForeignKeyRelation[Township] = fields.ForeignKeyField(
        "models.Township", related_name="villages", on_delete=fields.RESTRICT, db_index=True
    )
    name = fields.CharField(max_length=100)
    population = fields.IntField(default=0)
    needs_coverage = fields.BooleanField(default=True)
    lat = fields.FloatField(null=True)
    lon = fields.FloatField(null=True)

    class Meta:
        table = "village"


class User(Model):
    id = fields.CharField(primary_key=True, max_length=64)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=32, unique=True)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharField(max_length=16)
    township: fields.ForeignKeyNullableRelation[Township] = fields.ForeignKeyField(
        "models.Township", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    county: fields.ForeignKeyNullableRelation[County] = fields.ForeignKeyField(
        "models.County", related_name="admins", null=True, on_delete=fields.RESTRICT
    )
    qualification = fields.CharField(max_length=32, default="other")
    language = fields.CharField(max_length=8, default="zh-CN")
    active = fields.BooleanField(default=True)
    # Last completed push or pull from any device: "provisional" asks for it (SPEC §4).
    last_sync_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_user"


class Device(Model):
    # A phone (or browser) signed in as a user; holds the sync bookkeeping the devices page shows.

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="devices", on_delete=fields.CASCADE
    )
    device_id = fields.CharField(max_length=100)
    device_name = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_push_at = fields.DatetimeField(null=True)
    last_pull_at = fields.DatetimeField(null=True)
    app_version = fields.CharField(max_length=50, null=True)
    outbox = fields.IntField(null=True)
    storage_used_mb = fields.FloatField(null=True)
    storage_quota_mb = fields.FloatField(null=True)
    status_at = fields.DatetimeField(null=True)

    class Meta:
        table = "device"
        unique_together = (("user", "device_id"),)


class AuthToken(Model):
    # Only the SHA-256 of a token is kept; the token itself is shown once, at sign-in.

    token_hash = fields.CharField(primary_key=True, max_length=64)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    device: fields.ForeignKeyRelation[Device] = fields.ForeignKeyField(
        "models.Device", related_name="tokens", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "auth_token"


class LoginFailure(Model):
    # Failed sign-ins per phone and per client address, shared by every server process.

    key = fields.CharField(primary_key=True, max_length=200)
    count = fields.IntField(default=0)
    window_start = fields.DatetimeField()

    class Meta:
        table = "login_failure"


class Assignment(Model):
    id = fields.CharField(primary_key=True, max_length=64)
    doctor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assignments", on_delete=fields.RESTRICT, db_index=True
    )
    village: fields.ForeignKeyRelation[Village] = fields.ForeignKeyField(
        "models.Village", related_name="assignments", on_delete=fields.RESTRICT, db_index=True
    )
    kind = fields.CharField(max_length=8)
    start = fields.DateField()
    end = fields.DateField(null=True)
    slots = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "assignment"


class Exemption(Model):
    id = fields.IntField(primary_key=True)
    village: fields.ForeignKeyRelation[Village] = fields.ForeignKeyField(
        "models.Village", related_name="exemptions", on_delete=fields.CASCADE
    )
    week = fields.CharField(max_length=8)
    reason = fields.CharField(max_length=500)
    created_by = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "exemption"
        unique_together = (("village", "week"),)


class Visit(Model):
    # The current (winning) version of a visit; earlier versions and conflict losers are in VisitVersion.

    id = fields.CharField(primary_key=True, max_length=36)
    doctor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="visits", on_delete=fields.RESTRICT
    )
    village: fields.ForeignKeyRelation[Village] = fields.ForeignKeyField(
        "models.Village", related_name="visits", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=8)
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    # Local date and ISO week of started_at in CUNYI_TZ, kept so a village-week is one index range.
    local_date = fields.DateField()
    week = fields.CharField(max_length=8)
    patients_seen = fields.IntField(default=0)
    services = fields.JSONField(default=list)
    notes = fields.TextField(default="")
    location = fields.JSONField(null=True)
    flags = fields.JSONField(default=list)
    deleted = fields.BooleanField(default=False)
    dismissed = fields.BooleanField(default=False)
    dismiss_reason = fields.CharField(max_length=500, null=True)
    overlap_resolved = fields.BooleanField(default=False)
    rev = fields.IntField(default=1)
    hlc = fields.CharField(max_length=150)
    device_id = fields.CharField(max_length=100, default="")
    first_received_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "visit"
        indexes = (
            Index(fields=("village_id", "week"), name="visit_village_week"),
            Index(fields=("doctor_id", "started_at"), name="visit_doctor_started"),
        )


class VisitVersion(Model):
    # Every accepted change of a visit (version) and every conflict loser (conflict_loser).

    id = fields.BigIntField(primary_key=True)
    visit_id = fields.CharField(max_length=36, db_index=True)
    change_id = fields.CharField(max_length=36, unique=True)
    rev = fields.IntField()
    hlc = fields.CharField(max_length=150)
    device_id = fields.CharField(max_length=100, default="")
    received_at = fields.DatetimeField()
    deleted = fields.BooleanField(default=False)
    data = fields.JSONField()
    outcome = fields.CharField(max_length=16, default="version")

    class Meta:
        table = "visit_version"


class Change(Model):
    # The change log a pull reads in seq order; scope columns decide who may see a change.

    seq = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=16)
    entity_id = fields.CharField(max_length=100)
    township = fields.CharField(max_length=9, null=True, db_index=True)
    county = fields.CharField(max_length=6, null=True)
    # Set for what only one user may see (a visit's doctor, an assignment's doctor, a reminder's user).
    user_id = fields.CharField(max_length=64, null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "change"


class CoverageWeek(Model):
    # The stored coverage row of one village and ISO week (SPEC §4, §7).

    id = fields.IntField(primary_key=True)
    village: fields.ForeignKeyRelation[Village] = fields.ForeignKeyField(
        "models.Village", related_name="coverage", on_delete=fields.CASCADE
    )
    township = fields.CharField(max_length=9)
    week = fields.CharField(max_length=8)
    mode = fields.CharField(max_length=8)
    status = fields.CharField(max_length=16)
    provisional = fields.BooleanField(default=True)
    duty_days = fields.IntField(default=0)
    duty_required = fields.IntField(default=0)
    patrol_days = fields.IntField(default=0)
    patrol_required = fields.IntField(default=0)
    flags = fields.JSONField(default=dict)
    unsynced = fields.JSONField(default=list)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "coverage_week"
        unique_together = (("village", "week"),)
        indexes = (Index(fields=("township", "week"), name="coverage_township_week"),)


class CoverageRevision(Model):
    id = fields.IntField(primary_key=True)
    village: fields.ForeignKeyRelation[Village] = fields.ForeignKeyField(
        "models.Village", related_name="revisions", on_delete=fields.CASCADE
    )
    week = fields.CharField(max_length=8)
    old_status = fields.CharField(max_length=16)
    new_status = fields.CharField(max_length=16)
    cause = fields.CharField(max_length=500)
    at = fields.DatetimeField()

    class Meta:
        table = "coverage_revision"
        indexes = (Index(fields=("village_id", "week"), name="revision_village_week"),)


class AuditEntry(Model):
    # Who did what to flags, assignments, devices and users.

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=50)
    target = fields.CharField(max_length=100)
    details = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"


class Reminder(Model):
    # A weekly reminder; the unique key makes it exist at most once per user, week and kind.

    id = fields.CharField(primary_key=True, max_length=36)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reminders", on_delete=fields.CASCADE
    )
    week = fields.CharField(max_length=8)
    kind = fields.CharField(max_length=32)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    url = fields.CharField(max_length=200, default="/app/")
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reminder"
        unique_together = (("user", "week", "kind"),)
        # The scheduler asks every minute who lacks the week's reminder (server/reminders.py).
        indexes = (Index(fields=("week", "kind", "user_id"), name="reminder_week_kind_user"),)


class Delivery(Model):
    # One channel's delivery of one reminder: sent, failed (with reason, retried) or removed.

    id = fields.BigIntField(primary_key=True)
    reminder: fields.ForeignKeyRelation[Reminder] = fields.ForeignKeyField(
        "models.Reminder", related_name="deliveries", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=16)
    target = fields.CharField(max_length=600, default="")
    status = fields.CharField(max_length=16, default="pending")
    reason = fields.CharField(max_length=500, null=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "delivery"


class PushSubscription(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="push_subscriptions", on_delete=fields.CASCADE
    )
    endpoint = fields.CharField(max_length=600, unique=True)
    p256dh = fields.CharField(max_length=200)
    auth = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "push_subscription"


class Lease(Model):
    # A named lease in the database, so one process of many runs the scheduler (or a rebuild).

    name = fields.CharField(primary_key=True, max_length=50)
    holder = fields.CharField(max_length=100)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "lease"

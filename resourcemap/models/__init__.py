"""Tortoise models, grouped by concept; tortoise loads them all from this module.

Model docstrings become SQL comments, and tortoise 1.1 splits SQLite DDL on ";" without
parsing comments: keep semicolons out of model docstrings.
"""

from resourcemap.models.accounts import Account, ApiToken, AuditEntry
from resourcemap.models.areas import Area, DemandPoint
from resourcemap.models.bookings import (
    Booking,
    BookingPolicy,
    Notification,
    Slot,
    TimeBlock,
    WaitlistEntry,
)
from resourcemap.models.dataset import DatasetInfo, PlannerJob, RateCount
from resourcemap.models.listings import (
    Closure,
    HoursException,
    OpeningHours,
    Organisation,
    Qualification,
    Resource,
    SearchChange,
    SearchCursor,
)
from resourcemap.models.referrals import FeedbackAnswer, FeedbackInvite, FeedbackToken, Referral

__all__ = [
    "Account",
    "ApiToken",
    "Area",
    "AuditEntry",
    "Booking",
    "BookingPolicy",
    "Closure",
    "DatasetInfo",
    "DemandPoint",
    "FeedbackAnswer",
    "FeedbackInvite",
    "FeedbackToken",
    "HoursException",
    "Notification",
    "OpeningHours",
    "Organisation",
    "PlannerJob",
    "Qualification",
    "RateCount",
    "Referral",
    "Resource",
    "SearchChange",
    "SearchCursor",
    "Slot",
    "TimeBlock",
    "WaitlistEntry",
]

"""Notifications: event catalogue, routing rules, a transactional outbox, channels, dispatcher.

Typical use (a pipeline run, then delivery)::

    notes = Notifications.open(settings, db)
    with db.begin() as conn:
        ...  # record the state change
        notes.sink.emit(pipeline_failed("training", run_id, step="fit", error=msg), conn)
    notes.dispatch()
"""

from truckflow.notify.config import ChannelSpec, NotifyConfig, Route, load_config
from truckflow.notify.dispatcher import ChannelReport, Dispatcher, DispatchReport
from truckflow.notify.errors import DeliveryError, NotifyError
from truckflow.notify.event_types import DEFAULT_SEVERITY, EventType, severity_rank
from truckflow.notify.outbox import OutboxSink, list_outbox
from truckflow.notify.service import Notifications
from truckflow.notify.tables import notify_outbox

__all__ = [
    "DEFAULT_SEVERITY",
    "ChannelReport",
    "ChannelSpec",
    "DeliveryError",
    "DispatchReport",
    "Dispatcher",
    "EventType",
    "Notifications",
    "NotifyConfig",
    "NotifyError",
    "OutboxSink",
    "Route",
    "list_outbox",
    "load_config",
    "notify_outbox",
    "severity_rank",
]

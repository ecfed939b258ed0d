"""Dashboard page: notifications (the content is in truckflow.dashboard.views.notifications)."""

from truckflow.dashboard.views import notifications

notifications.render()

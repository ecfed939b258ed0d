"""Dashboard page: drift (the content is in truckflow.dashboard.views.drift)."""

from truckflow.dashboard.views import drift

drift.render()

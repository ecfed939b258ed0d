"""Dashboard page: overview (the content is in truckflow.dashboard.views.overview)."""

from truckflow.dashboard.views import overview

overview.render()

"""Dashboard page: pipelines (the content is in truckflow.dashboard.views.pipelines)."""

from truckflow.dashboard.views import pipelines

pipelines.render()

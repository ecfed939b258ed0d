"""Dashboard page: models (the content is in truckflow.dashboard.views.models)."""

from truckflow.dashboard.views import models

models.render()

"""Dashboard page: predictions (the content is in truckflow.dashboard.views.predictions)."""

from truckflow.dashboard.views import predictions

predictions.render()

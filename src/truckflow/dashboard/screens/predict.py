"""Dashboard page: predict (the content is in truckflow.dashboard.views.predict)."""

from truckflow.dashboard.views import predict

predict.render()

"""The dashboard's pages: one module each, holding the page as a function named after it
(its URL path); ``truckflow.dashboard.app`` puts them in the navigation."""

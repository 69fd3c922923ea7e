from django.urls import include, path

urlpatterns = [
    path("", include("brankas.web.ui.urls")),
]

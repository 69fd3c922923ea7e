from django.urls import path

from brankas.web.ui import views

app_name = "ui"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("setup/", views.setup, name="setup"),
]

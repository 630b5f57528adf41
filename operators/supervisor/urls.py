from django.urls import path

from operators.supervisor import views

app_name = "supervisor"

urlpatterns = [
    path("", views.supervisor_home, name="home"),
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/live", views.live, name="live"),
    path("<slug:slug>/export.csv", views.export, name="export"),
]

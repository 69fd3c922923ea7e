from django.apps import AppConfig


class SendRequestsConfig(AppConfig):
    name = "brankas.web.sendrequests"
    # The label is the app's name before issue 12: its tables (dispatch_*), its
    # migration history and the database snapshots on backup disks all name it.
    label = "dispatch"

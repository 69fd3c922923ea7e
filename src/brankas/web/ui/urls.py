from django.urls import path
from django.views.i18n import set_language

from brankas.web.ui.accounts import admin_views as account_admin
from brankas.web.ui.accounts import views as accounts
from brankas.web.ui.audit import verify_views as audit_verify_views
from brankas.web.ui.audit import views as audit_views
from brankas.web.ui.backup import recover_views, step_views
from brankas.web.ui.backup import views as backup
from brankas.web.ui.custody import views as custody
from brankas.web.ui.dashboard import views as dashboard
from brankas.web.ui.documents import text_views
from brankas.web.ui.documents import views as documents
from brankas.web.ui.keys import coverage_views, recovery_views
from brankas.web.ui.keys import grant_views as key_grants
from brankas.web.ui.keys import lifecycle_views as key_lifecycle
from brankas.web.ui.keys import views as keys
from brankas.web.ui.office import views as office_views
from brankas.web.ui.reports import views as reports
from brankas.web.ui.sendrequests import views as sendrequests

app_name = "ui"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("setup/", accounts.setup, name="setup"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("documents/", documents.document_list_view, name="documents"),
    path("documents/new/", documents.register, name="register"),
    # Agenda numbers may contain "/" when the office's format has one.
    path("documents/<path:agenda>/pdf", documents.document_pdf, name="document_pdf"),
    path("documents/<path:agenda>/open", documents.document_open_view, name="document_open"),
    # s19: a document's text read again, and the OCR job's page (issue 19)
    path("documents/<path:agenda>/text", text_views.document_text_redo, name="document_text"),
    path("text/jobs/<str:job_id>/", text_views.text_job_page, name="text_job"),
    path("text/jobs/<str:job_id>/status", text_views.text_job_status, name="text_job_status"),
    path("text/jobs/<str:job_id>/resume", text_views.text_job_resume, name="text_job_resume"),
    path("documents/<path:agenda>/", documents.document_detail, name="document"),
    path("keys/", keys.keys_view, name="keys"),
    # issue 13, a holder's own key: passphrase change, key check
    path("keys/passphrase/", key_lifecycle.key_passphrase_view, name="key_passphrase"),
    path("keys/check/", key_lifecycle.key_check_view, name="key_check"),
    # issue 13, hand-over and revocation (ui/keys/grant_views.py)
    path("keys/grant/", key_grants.grant_page, name="key_grant"),
    path("keys/revoke/", key_grants.revoke_page, name="key_revoke"),
    path("keys/jobs/<str:job_id>/", key_grants.key_job_page, name="key_job"),
    path("keys/jobs/<str:job_id>/status", key_grants.key_job_status, name="key_job_status"),
    path("users/", accounts.users_view, name="users"),
    path("backup/", backup.backup_page, name="backup"),
    path("backup/verify/", backup.verify_page, name="backup_verify"),
    path("backup/jobs/<str:job_id>/", backup.job_page, name="backup_job"),
    path("backup/jobs/<str:job_id>/status", backup.job_status, name="backup_job_status"),
    path("backup/media/", backup.media_page, name="backup_media"),
    path("backup/runs/", backup.runs_page, name="backup_runs"),
    path("backup/runs/<int:number>/", backup.run_page, name="backup_run"),
    path("backup/runs/<int:number>/export.<str:fmt>", backup.run_export,
         name="backup_run_export"),
    path("backup/media/<str:medium_id>/", custody.medium_page, name="medium"),
    path("backup/media/<str:medium_id>/custody.pdf", custody.medium_custody_pdf,
         name="medium_custody_pdf"),
    path("safes/", custody.safes_page, name="safes"),
    path("reports/", reports.reports_page, name="reports"),
    path("reports/verify", reports.report_verify_view, name="report_verify"),
    path("reports/<int:number>/", reports.report_page, name="report"),
    path("reports/<int:number>/report.pdf", reports.report_pdf_view, name="report_pdf"),
    path("reports/<int:number>/report.xlsx", reports.report_xlsx_view, name="report_xlsx"),
    path("reports/<int:number>/correct", reports.report_correct_view, name="report_correct"),
    path("reports/<int:number>/<str:step>", reports.report_step_view, name="report_step"),
    path("safes/print", custody.safes_print, name="safes_print"),
    path("safes/<int:safe_id>/combination", custody.safe_combination_view,
         name="safe_combination"),
    path("safes/<int:safe_id>/set-combination", custody.safe_set_combination_view,
         name="safe_set_combination"),
]

# Requests to send a secret message (permintaan pengiriman berita).
urlpatterns += [
    path("requests/", sendrequests.request_list_view, name="requests"),
    path("requests/new/", sendrequests.request_new, name="request_new"),
    path("requests/<int:number>/", sendrequests.request_detail, name="request"),
    path("requests/<int:number>/assign", sendrequests.request_assign_view, name="request_assign"),
    path("requests/<int:number>/return", sendrequests.request_return_view, name="request_return"),
    path("requests/<int:number>/receive", sendrequests.request_receive_view,
         name="request_receive"),
    path("requests/<int:number>/register/", sendrequests.request_register_view,
         name="request_register"),
    path("requests/<int:number>/sent", sendrequests.request_sent_view, name="request_sent"),
    path("requests/<int:number>/letter", sendrequests.request_letter_view, name="request_letter"),
    path("audit/", audit_views.audit_page, name="audit"),
    path("audit/export.csv", audit_views.audit_export_view, name="audit_export"),
    path("audit/verify/", audit_verify_views.audit_verify_view, name="audit_verify"),
    path("reauth/", accounts.reauth_view, name="reauth"),
    path("login/code/", accounts.login_code_view, name="login_code"),
    path("account/authenticator/", accounts.totp_view, name="totp"),
]

# The office recovery key on paper (issue 13): share sheets and share checks, admin only.
urlpatterns += [
    path("keys/recovery/split", recovery_views.recovery_split_view, name="recovery_split"),
    path("keys/recovery/check", recovery_views.recovery_check_view, name="recovery_check"),
]

# Key coverage (issue 13: who can open each exempted file).
urlpatterns += [
    path("keys/coverage/", coverage_views.coverage_page, name="key_coverage"),
]

# issue 14 C: every SOP step on the web (import, restore, drill, recover at first run).
urlpatterns += [
    path("import/", step_views.import_page, name="import"),
    path("backup/restore/", step_views.restore_page, name="restore"),
    path("backup/drill/", step_views.drill_page, name="drill"),
    path("backup/steps/<str:job_id>/", step_views.step_job_page, name="step_job"),
    path("backup/steps/<str:job_id>/status", step_views.step_job_status, name="step_job_status"),
    path("setup/recover/", recover_views.recover_page, name="recover"),
    path("setup/recover/<str:job_id>/", recover_views.recover_job_page, name="recover_job"),
    path("setup/recover/<str:job_id>/status", recover_views.recover_job_status,
         name="recover_job_status"),
]

# User administration and my account (issue 14 A).
urlpatterns += [
    path("users/<str:username>/", account_admin.user_page, name="user"),
    path("account/", account_admin.account_page, name="account"),
]

# issue 14 B: the office profile (admin)
urlpatterns += [
    path("office/", office_views.office_page, name="office"),
    path("office/logo.png", office_views.office_logo, name="office_logo"),
]

# issue 15 B: resume an interrupted backup (a new job continuing it)
urlpatterns += [
    path("backup/jobs/<str:job_id>/resume", backup.job_resume, name="backup_job_resume"),
]

# issue 16 F: unlock one's key to see sealed register fields, and lock it again
from brankas.web.ui.documents import sealed_views  # noqa: E402

urlpatterns += [
    path("sealed/unlock", sealed_views.sealed_unlock, name="sealed_unlock"),
    path("sealed/lock", sealed_views.sealed_lock, name="sealed_lock"),
]

# s17 E: the equipment register, its maintenance log and the disks' health (issue 17)
from brankas.web.ui.equipment import views as equipment_views  # noqa: E402

urlpatterns += [
    path("equipment/", equipment_views.equipment_page, name="equipment"),
    path("equipment/<str:ref>/", equipment_views.equipment_item_page, name="equipment_item"),
    path("equipment/<str:ref>/log", equipment_views.equipment_log_view, name="equipment_log"),
    path("equipment/<str:ref>/retire", equipment_views.equipment_retire_view,
         name="equipment_retire"),
]

# s18 OC: offsite copies (issue 18): the remotes, push / verify / restore as jobs, daily push
from brankas.web.ui.offsite import views as offsite_views  # noqa: E402

urlpatterns += [
    path("offsite/", offsite_views.offsite_page, name="offsite"),
    path("offsite/jobs/<str:job_id>/", offsite_views.job_page, name="offsite_job"),
    path("offsite/jobs/<str:job_id>/status", offsite_views.job_status,
         name="offsite_job_status"),
    path("offsite/<str:name>/", offsite_views.remote_page, name="offsite_remote"),
    path("offsite/<str:name>/push", offsite_views.push_view, name="offsite_push"),
    path("offsite/<str:name>/verify", offsite_views.verify_view, name="offsite_verify"),
    path("offsite/<str:name>/schedule", offsite_views.schedule_view, name="offsite_schedule"),
    path("offsite/<str:name>/restore/", offsite_views.restore_page, name="offsite_restore"),
]

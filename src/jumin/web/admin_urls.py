"""職員・権限の管理 screens and the own-password page, mounted under ``admin/`` by
``jumin.web.urls`` (names in the ``web`` namespace: ``web:admin_staff_list`` …)."""

from django.urls import path

from jumin.web import admin_views as v

urlpatterns = [
    path("", v.staff_list, name="admin_staff_list"),
    path("new-staff/", v.staff_new, name="admin_staff_new"),
    path("import-roles/", v.staff_import, name="admin_staff_import"),
    path("staff/<str:staff_id>/", v.staff_detail, name="admin_staff_detail"),
    path("staff/<str:staff_id>/edit/", v.staff_edit, name="admin_staff_edit"),
    path("staff/<str:staff_id>/deactivate/", v.staff_deactivate, name="admin_staff_deactivate"),
    path("staff/<str:staff_id>/reactivate/", v.staff_reactivate, name="admin_staff_reactivate"),
    path(
        "staff/<str:staff_id>/reset-password/",
        v.staff_reset_password,
        name="admin_staff_reset_password",
    ),
    path("staff/<str:staff_id>/schedule/", v.staff_schedule, name="admin_staff_schedule"),
    path("scheduled/<int:change_id>/cancel/", v.schedule_cancel, name="admin_schedule_cancel"),
    path("roles/", v.role_list, name="admin_role_list"),
    path("roles/new/", v.role_edit, name="admin_role_new"),
    path("roles/matrix/", v.role_matrix, name="admin_role_matrix"),
    path("roles/matrix.csv", v.role_matrix_csv, name="admin_role_matrix_csv"),
    path("roles/<str:code>/", v.role_edit, name="admin_role_edit"),
    path("terminals/", v.terminal_list, name="admin_terminal_list"),
    path("terminals/new/", v.terminal_edit, name="admin_terminal_new"),
    path("terminals/<int:terminal_id>/", v.terminal_edit, name="admin_terminal_edit"),
    path("org-units/", v.org_units, name="admin_org_units"),
    path("password/", v.password_change, name="password_change"),
]

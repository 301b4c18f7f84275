"""SCIM 2.0 routes, included under ``scim/v2/`` (with or without a trailing slash)."""

from django.urls import re_path

from . import views

app_name = "label_studio_sso_scim"

_ID = r"(?P<resource_id>[^/]{1,200})"

urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", views.ServiceProviderConfigView.as_view(), name="config"),
    re_path(r"^ResourceTypes/?$", views.ResourceTypesView.as_view(), name="resource-types"),
    re_path(rf"^ResourceTypes/{_ID}/?$", views.ResourceTypesView.as_view(), name="resource-type"),
    re_path(r"^Schemas/?$", views.SchemasView.as_view(), name="schemas"),
    re_path(rf"^Schemas/{_ID}/?$", views.SchemasView.as_view(), name="schema"),
    re_path(r"^Users/?$", views.UsersView.as_view(), name="users"),
    re_path(r"^Users/\.search/?$", views.UsersSearchView.as_view(), name="users-search"),
    re_path(rf"^Users/{_ID}/?$", views.UserView.as_view(), name="user"),
    re_path(r"^Groups/?$", views.GroupsView.as_view(), name="groups"),
    re_path(r"^Groups/\.search/?$", views.GroupsSearchView.as_view(), name="groups-search"),
    re_path(rf"^Groups/{_ID}/?$", views.GroupView.as_view(), name="group"),
    re_path(r"^\.search/?$", views.RootSearchView.as_view(), name="search"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]

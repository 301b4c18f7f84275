"""The ``/scim/v2/`` endpoints: gate (token, rate), read the message, call users/groups, answer.

Every request passes the same gate in this order: SCIM switched on (else 404), the rate
limit (429 with Retry-After), the bearer token (401 with ``WWW-Authenticate: Bearer``).
Each write runs in one transaction: a request refused halfway changes nothing. Every
refusal is a SCIM error body and an audit line; a database outage is a 503, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from scim2_models import (
    Context,
    PatchOp,
    ResourceType,
    Schema,
    SCIMException,
    SearchRequest,
)

from .. import audit, strict_json
from ..errors import RETRY_AFTER_SECONDS
from ..guards.body_limit import BodyLimit
from . import groups, users
from .access import peer_address, presents_token, scim_enabled, throttled_for
from .ids import group_id, group_key, is_scim_id
from .listing import is_attribute, narrowed, page, page_of_resources, search_request
from .resources import GROUP_SCHEMA, PROVIDER, USER_SCHEMA, Group, User, attribute_names
from .responses import ScimError, error_json, scim_json, sentence

LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ATTRIBUTE_NAMES = attribute_names()
MAX_SCIM_BODY_BYTES = 1024 * 1024  # a SCIM message, at most (a group of 10,000 members fits)


def _body_refused_unread(request: HttpRequest, status: int) -> HttpResponse:
    """SCIM's own error body for a body over its limit (413) or without a length (411)."""
    audit.scim_refused(
        method=request.method or "-", resource="-", status=status, scim_type=None, peer=peer_address(request)
    )
    return error_json(ScimError(status), Connection="close")  # the unread body is no next request


@method_decorator(csrf_exempt, name="dispatch")  # a bearer token, never a cookie: nothing to forge
class ScimView(View):
    """The gate and the error handling every SCIM endpoint shares."""

    resource = "-"  # what the audit log calls this endpoint
    body_limit = BodyLimit(MAX_SCIM_BODY_BYTES, _body_refused_unread)  # refused unread by the guard

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            self._check_gate(request)
            with PROVIDER:
                handler = getattr(self, request.method.lower(), None) if request.method else None
                if handler is None:
                    raise ScimError(405)
                return handler(request, *args, **kwargs)
        except ScimError as error:
            return self._refused(request, error)
        except SCIMException as error:
            return self._refused(request, ScimError(error.status, error.scim_type or None))
        except ValidationError as error:
            return self._refused(request, _validation_refusal(error))
        except IntegrityError:  # a unique row another request wrote first: the transaction rolled back
            return self._refused(request, ScimError(409, "uniqueness"))
        except DatabaseError:
            return self._refused(request, ScimError(503), Retry_After=RETRY_AFTER_SECONDS)

    def _check_gate(self, request: HttpRequest) -> None:
        if not scim_enabled():
            raise ScimError(404)
        wait = throttled_for(request)
        if wait is not None:
            raise _Throttled(wait)
        if not presents_token(request):
            raise ScimError(401)

    def _refused(self, request: HttpRequest, error: ScimError, **headers: str) -> HttpResponse:
        audit.scim_refused(
            method=request.method or "-",
            resource=self.resource,
            status=error.status,
            scim_type=error.scim_type,
            peer=peer_address(request),
        )
        if isinstance(error, _Throttled):
            headers["Retry_After"] = str(error.wait)
        if error.status == 401:
            headers["WWW_Authenticate"] = 'Bearer realm="SCIM"'
        return error_json(error, **headers)

    def base_url(self, request: HttpRequest) -> str:
        """This service's root, as the client reached it (Django's host checks apply)."""
        return request.build_absolute_uri("/scim/v2").rstrip("/")


class _Throttled(ScimError):
    def __init__(self, wait: int) -> None:
        super().__init__(429)
        self.wait = wait


def _validation_refusal(error: ValidationError) -> ScimError:
    """400 with the scimType the library gives, naming the attribute (never the value)."""
    details = error.errors()
    first = details[0] if details else {}
    scim_type = str(first.get("ctx", {}).get("scim_type") or "") or "invalidValue"
    status = int(first.get("ctx", {}).get("status") or 400)
    named = []
    for part in first.get("loc", ()):
        if isinstance(part, str) and part not in ATTRIBUTE_NAMES:
            break  # a key the client wrote: never echoed
        if isinstance(part, str):
            named.append(part)
    return ScimError(status, scim_type, sentence(status, scim_type, ".".join(named) or None))


def read_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; 413 over MAX_SCIM_BODY_BYTES, 400 for anything but one JSON object."""
    if len(request.body) > MAX_SCIM_BODY_BYTES:  # the guard refused a larger declared length unread
        raise ScimError(413)
    try:
        payload = strict_json.loads(request.body)
    except (ValueError, RecursionError):
        raise ScimError(400, "invalidSyntax") from None
    if not isinstance(payload, dict):
        raise ScimError(400, "invalidSyntax")
    return payload


class ServiceProviderConfigView(ScimView):
    resource = "ServiceProviderConfig"

    def get(self, request: HttpRequest) -> HttpResponse:
        config = PROVIDER.config
        assert config is not None
        body = config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        body["meta"] = {"resourceType": "ServiceProviderConfig", "location": request.build_absolute_uri()}
        return scim_json(body)


class _DiscoveryView(ScimView):
    """``/ResourceTypes`` and ``/Schemas``: a list, or one by id."""

    def items(self) -> list[Any]:
        raise NotImplementedError

    def get(self, request: HttpRequest, resource_id: str | None = None) -> HttpResponse:
        base = self.base_url(request)
        found = [
            _described(item, f"{base}/{self.resource}/{item.id}", self.resource[:-1])
            for item in self.items()
            if resource_id is None or item.id == resource_id
        ]
        if resource_id is not None:
            if not found:
                raise ScimError(404)
            return scim_json(found[0])
        return scim_json(
            {
                "schemas": [LIST_RESPONSE_SCHEMA],
                "totalResults": len(found),
                "startIndex": 1,
                "itemsPerPage": len(found),
                "Resources": found,
            }
        )


def _described(item: Any, location: str, resource_type: str) -> dict[str, Any]:
    body = item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {"resourceType": resource_type, "location": location}
    return body


class ResourceTypesView(_DiscoveryView):
    resource = "ResourceTypes"

    def items(self) -> list[ResourceType]:
        return list(PROVIDER.resource_types)


class SchemasView(_DiscoveryView):
    resource = "Schemas"

    def items(self) -> list[Schema]:
        return list(PROVIDER.schemas)


class _Collection(ScimView):
    """A resource endpoint: list and search (GET, POST /.search), create (POST)."""

    model: type[User] | type[Group]

    def to_resource(self, request: HttpRequest) -> Callable[[Any], Any]:
        raise NotImplementedError

    def queryset(self) -> Any:
        raise NotImplementedError

    def narrowing(self, path: Any, value: str) -> Any:
        raise NotImplementedError

    def create(self, resource: Any) -> Any:
        raise NotImplementedError

    def created_id(self, row: Any) -> str:
        raise NotImplementedError

    def item(self, request: HttpRequest, resource_id: str) -> Any:
        raise NotImplementedError

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._listed(request, search_request(self.model, request.GET))

    def post(self, request: HttpRequest) -> HttpResponse:
        payload = read_body(request)
        resource = self.model.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        with transaction.atomic():
            row = self.create(resource)
        created = self.item(request, self.created_id(row))
        body = created.model_dump(scim_ctx=Context.RESOURCE_CREATION_RESPONSE)
        return scim_json(body, 201, Location=str(created.meta.location if created.meta else ""))

    def _listed(self, request: HttpRequest, query: SearchRequest[Any]) -> HttpResponse:
        candidates = narrowed(self.queryset(), query, self.narrowing)
        listing = page(query, candidates, self.to_resource(request), self.model)
        return scim_json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=query))


class _Search(_Collection):
    """``POST …/.search``: the same query, in a SearchRequest body."""

    def post(self, request: HttpRequest) -> HttpResponse:
        return self._listed(request, search_request(self.model, read_body(request)))


class _Item(ScimView):
    """One resource: read (GET), replace (PUT), change (PATCH), delete (DELETE)."""

    model: type[User] | type[Group]

    def load(self, resource_id: str) -> Any:
        raise NotImplementedError

    def as_resource(self, request: HttpRequest, row: Any) -> Any:
        raise NotImplementedError

    def write(self, row: Any, resource: Any, *, patched: bool = False) -> None:
        raise NotImplementedError

    def remove(self, row: Any) -> None:
        raise NotImplementedError

    def get(self, request: HttpRequest, resource_id: str) -> HttpResponse:
        query = search_request(self.model, request.GET)
        resource = self.as_resource(request, self.load(resource_id))
        return scim_json(
            resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=query)
        )

    def put(self, request: HttpRequest, resource_id: str) -> HttpResponse:
        payload = read_body(request)
        with transaction.atomic():
            row = self.load(resource_id)
            resource = self.model.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
            self.write(row, resource)
        return self._answer(request, resource_id, Context.RESOURCE_REPLACEMENT_RESPONSE)

    def patch(self, request: HttpRequest, resource_id: str) -> HttpResponse:
        payload = read_body(request)
        operations = PatchOp[self.model].model_validate(payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        with transaction.atomic():
            row = self.load(resource_id)
            resource = self.as_resource(request, row)
            operations.patch(resource)
            self.write(row, resource, patched=True)
        return self._answer(request, resource_id, Context.RESOURCE_PATCH_RESPONSE)

    def delete(self, request: HttpRequest, resource_id: str) -> HttpResponse:
        with transaction.atomic():
            self.remove(self.load(resource_id))
        return HttpResponse(status=204)

    def _answer(self, request: HttpRequest, resource_id: str, context: Context) -> HttpResponse:
        resource = self.as_resource(request, self.load(resource_id))
        return scim_json(resource.model_dump(scim_ctx=context))


class UsersMixin:
    resource = "Users"
    model = User

    def to_resource(self, request: HttpRequest) -> Callable[[Any], Any]:
        base = self.base_url(request)
        return lambda user: users.to_resource(user, base)

    def queryset(self) -> Any:
        return users.scim_users()

    def narrowing(self, path: Any, value: str) -> Any:
        if is_attribute(path, "userName", USER_SCHEMA) and value.isascii():  # others fold apart in SQL
            by_email = Q(sso_scim_account__isnull=True, email__iexact=value)
            return Q(sso_scim_account__user_name_key=users.comparison_key(value)) | by_email
        if is_attribute(path, "emails.value", USER_SCHEMA) and value.isascii():
            return Q(email__iexact=value)
        if is_attribute(path, "externalId", USER_SCHEMA):
            return Q(sso_scim_account__external_id=value)
        if is_attribute(path, "id", USER_SCHEMA):
            return Q(pk=int(value)) if is_scim_id(value) else Q(pk__in=[])
        return None


class UsersView(UsersMixin, _Collection):
    def create(self, resource: Any) -> Any:
        return users.create(users.wanted_from(resource))

    def created_id(self, row: Any) -> str:
        return str(row.pk)

    def item(self, request: HttpRequest, resource_id: str) -> Any:
        return users.to_resource(users.user_or_404(resource_id), self.base_url(request))


class UsersSearchView(UsersMixin, _Search):
    pass


class UserView(UsersMixin, _Item):
    def load(self, resource_id: str) -> Any:
        return users.user_or_404(resource_id)

    def as_resource(self, request: HttpRequest, row: Any) -> Any:
        return users.to_resource(row, self.base_url(request))

    def write(self, row: Any, resource: Any, *, patched: bool = False) -> None:
        if patched and resource.active is None:  # a PUT without it leaves it as it is
            raise ScimError(400, "mutability", "active cannot be removed: set it to true or false.")
        users.write(row, users.wanted_from(resource))

    def remove(self, row: Any) -> None:
        users.delete(row)


class GroupsMixin:
    resource = "Groups"
    model = Group

    def to_resource(self, request: HttpRequest) -> Callable[[Any], Any]:
        base = self.base_url(request)
        return lambda group: groups.to_resource(group, base)

    def queryset(self) -> Any:
        return groups.scim_groups()

    def narrowing(self, path: Any, value: str) -> Any:
        if is_attribute(path, "displayName", GROUP_SCHEMA):
            return Q(display_name_key=users.comparison_key(value))
        if is_attribute(path, "externalId", GROUP_SCHEMA):
            return Q(external_id=value)
        if is_attribute(path, "id", GROUP_SCHEMA):
            key = group_key(value)
            return Q(pk=key) if key is not None else Q(pk__in=[])
        return None


class GroupsView(GroupsMixin, _Collection):
    def create(self, resource: Any) -> Any:
        return groups.create(groups.wanted_from(resource))

    def created_id(self, row: Any) -> str:
        return group_id(row)

    def item(self, request: HttpRequest, resource_id: str) -> Any:
        return groups.to_resource(groups.group_or_404(resource_id), self.base_url(request))


class GroupsSearchView(GroupsMixin, _Search):
    pass


class GroupView(GroupsMixin, _Item):
    def load(self, resource_id: str) -> Any:
        return groups.group_or_404(resource_id)

    def as_resource(self, request: HttpRequest, row: Any) -> Any:
        return groups.to_resource(row, self.base_url(request))

    def write(self, row: Any, resource: Any, *, patched: bool = False) -> None:
        groups.write(row, groups.wanted_from(resource))

    def remove(self, row: Any) -> None:
        groups.delete(row)


class RootSearchView(ScimView):
    """``POST /.search``: one query over Users and Groups (RFC 7644 §3.4.3)."""

    resource = ".search"

    def post(self, request: HttpRequest) -> HttpResponse:
        query = search_request(User | Group, read_body(request))  # type: ignore[arg-type]
        base = self.base_url(request)
        listing = page_of_resources(
            query,
            [
                *(users.to_resource(user, base) for user in users.scim_users()),
                *(groups.to_resource(group, base) for group in groups.scim_groups()),
            ],
            User | Group,  # type: ignore[arg-type]
        )
        return scim_json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=query))


class NotFoundView(ScimView):
    """Anything else under ``/scim/v2/``: a SCIM 404 (after the gate, so it reveals nothing)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            self._check_gate(request)
        except ScimError as error:
            return self._refused(request, error)
        return self._refused(request, ScimError(404))

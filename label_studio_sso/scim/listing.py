"""Lists and searches: the library parses the query and decides what matches; we page it.

``filter``, ``startIndex``, ``count``, ``attributes`` and ``excludedAttributes`` are read
by scim2-models' SearchRequest, so a filter is parsed by the RFC 7644 grammar and checked
against the published schema before anything touches the database. The database only
narrows the candidates for the equality filters providers send on every push
(``userName eq``, ``emails.value eq``, ``externalId eq``, ``displayName eq``, ``id eq``); the
library's ``match`` then decides for each candidate, so the answer never depends on how a
database compares text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db.models import Q, QuerySet
from pydantic import ValidationError
from scim2_models import Context, ListResponse, Resource, SearchRequest
from scim2_models.path import AttrPath, CompareOperator, Comparison, LogicalExpr, LogicalOperator

from .resources import DEFAULT_COUNT, MAX_RESULTS
from .responses import ScimError

MAX_FILTER_LENGTH = 4096  # what fits in a request line; a provider's filters are a few dozen characters
Narrowing = Callable[[AttrPath, str], Q | None]
_QUERY_PARAMETERS = ("filter", "startIndex", "count", "attributes", "excludedAttributes")


def search_request(model: Any, parameters: Mapping[str, Any]) -> SearchRequest[Any]:
    """The query as the library reads it; 400 invalidFilter / invalidValue when it cannot."""
    wanted = {name: parameters[name] for name in _QUERY_PARAMETERS if name in parameters}
    if len(str(wanted.get("filter") or "")) > MAX_FILTER_LENGTH:
        raise ScimError(400, "invalidFilter", f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    try:
        return SearchRequest[model].model_validate(wanted, scim_ctx=Context.SEARCH_REQUEST)
    except ValidationError as error:
        kinds = {str(detail.get("ctx", {}).get("scim_type") or "") for detail in error.errors()}
        located = {str(detail["loc"][0]) for detail in error.errors() if detail.get("loc")}
        if "invalidFilter" in kinds or "filter" in located:
            raise ScimError(400, "invalidFilter") from None
        raise ScimError(400, "invalidValue") from None


def narrowed(queryset: QuerySet[Any], request: SearchRequest[Any], narrowing: Narrowing) -> QuerySet[Any]:
    """The candidates a filter can match: fewer rows when it is an equality the database can test."""
    if request.filter is None:
        return queryset
    node = request.filter.ast
    terms = node.terms if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_ else (node,)
    for term in terms:
        if isinstance(term, Comparison) and term.op == CompareOperator.eq and isinstance(term.value, str):
            condition = narrowing(term.attr_path, term.value)
            if condition is not None:
                return queryset.filter(condition)
    return queryset


def page(
    request: SearchRequest[Any],
    candidates: QuerySet[Any],
    to_resource: Callable[[Any], Resource[Any]],
    model: type[Resource[Any]],
) -> ListResponse[Any]:
    """The page the request asks for: ``startIndex`` from 1, at most MAX_RESULTS resources."""
    start, count = _bounds(request)
    if request.filter is not None:
        return page_of_resources(
            request, (to_resource(row) for row in candidates.iterator(chunk_size=500)), model
        )
    rows: Iterable[Any] = candidates[start - 1 : start - 1 + count] if count else []
    return _listing(model, candidates.count(), start, [to_resource(row) for row in rows])


def page_of_resources(
    request: SearchRequest[Any], resources: Iterable[Resource[Any]], model: Any
) -> ListResponse[Any]:
    """The page of the resources the request's filter matches (all, without a filter)."""
    start, count = _bounds(request)
    matching = [
        resource for resource in resources if request.filter is None or request.filter.match(resource)
    ]
    return _listing(model, len(matching), start, matching[start - 1 : start - 1 + count])


def _bounds(request: SearchRequest[Any]) -> tuple[int, int]:
    start = max(1, request.start_index or 1)
    return start, min(MAX_RESULTS, DEFAULT_COUNT if request.count is None else max(0, request.count))


def _listing(model: Any, total: int, start: int, resources: list[Resource[Any]]) -> ListResponse[Any]:
    return ListResponse[model](
        total_results=total, start_index=start, items_per_page=len(resources), resources=resources
    )


def is_attribute(path: AttrPath, name: str, schema: str) -> bool:
    """Whether a filter's attribute path names ``name`` (``a`` or ``a.b``) of the core ``schema``."""
    written = f"{path.attr}.{path.sub_attr}" if path.sub_attr else path.attr
    return written.lower() == name.lower() and (path.uri is None or path.uri.lower() == schema.lower())

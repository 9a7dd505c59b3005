"""The service's request and response bodies (pydantic models): what a client sends and gets back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pandas as pd
from pydantic import AfterValidator, BaseModel, Field


def _in_table_range(value: dt.datetime) -> dt.datetime:
    """Dates must fit the link table's nanosecond timestamps (the readers treat others as unparsable)."""
    try:
        utc = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    except OverflowError:  # year 9999 with a negative offset
        utc = dt.datetime.max
    if not pd.Timestamp.min <= utc <= pd.Timestamp.max:
        raise ValueError(f"dates must lie between {pd.Timestamp.min:%Y-%m-%d} and {pd.Timestamp.max:%Y-%m-%d}")
    return value


Text = Annotated[str, Field(max_length=32_768)]
Url = Annotated[str, Field(max_length=4096)]
Date = Annotated[dt.datetime, AfterValidator(_in_table_range)]


class Link(BaseModel):
    """One backlink in the canonical schema; only ``source_url`` is required."""

    source_url: Url
    target_url: Url | None = None
    anchor: Text | None = None
    left_context: Text | None = None
    right_context: Text | None = None
    nofollow: bool | None = None
    ugc: bool | None = None
    sponsored: bool | None = None
    link_type: Literal["text", "image", "redirect", "frame", "form", "mention"] | None = None
    in_content: bool | None = None
    region: Literal["body", "header", "nav", "sidebar", "footer", "comments", "author"] | None = None
    sitewide: bool | None = None
    links_in_group: float | None = Field(default=None, ge=0)
    source_title: Text | None = None
    language: Annotated[str, Field(max_length=100)] | None = None
    domain_rating: float | None = Field(default=None, ge=0, le=100)
    url_rating: float | None = Field(default=None, ge=0, le=100)
    authority_score: float | None = Field(default=None, ge=0, le=100)
    trust_flow: float | None = Field(default=None, ge=0, le=100)
    citation_flow: float | None = Field(default=None, ge=0, le=100)
    domain_authority: float | None = Field(default=None, ge=0, le=100)
    page_authority: float | None = Field(default=None, ge=0, le=100)
    domain_traffic: float | None = Field(default=None, ge=0)
    page_traffic: float | None = Field(default=None, ge=0)
    source_referring_domains: float | None = Field(default=None, ge=0)
    external_links: float | None = Field(default=None, ge=0)
    internal_links: float | None = Field(default=None, ge=0)
    linked_domains: float | None = Field(default=None, ge=0)
    first_seen: Date | None = None
    last_seen: Date | None = None
    lost: bool | None = None
    tool_spam_flag: bool | None = None
    tool_spam_score: float | None = Field(default=None, ge=0, le=100)
    http_code: float | None = Field(default=None, ge=100, le=599)


class ScoredLink(BaseModel):
    """One link's score."""

    index: int
    source_url: str
    target_url: str | None
    toxicity: float
    verdict: str
    reasons: list[str]
    anchor_class: str
    placement: str


class Rejected(BaseModel):
    """A link that could not be scored, and why."""

    index: int
    field: str
    reason: str


class ScoreResponse(BaseModel):
    """Scores, the links rejected, and which model produced them."""

    model_name: str
    model_version: str
    links: list[ScoredLink]
    rejected: list[Rejected]


class Judgment(BaseModel):
    """A reviewer's judgment of one link (or of every link from a page when target_url is omitted)."""

    source_url: Url
    target_url: Url | None = None
    label: Literal["toxic", "natural"]
    note: Annotated[str, Field(max_length=500)] | None = None


class FeedbackResponse(BaseModel):
    """How many judgments were stored, and which were rejected."""

    stored: int
    rejected: list[Rejected]


class ReloadResponse(BaseModel):
    """The model serving after a reload."""

    model_name: str
    model_version: str
    changed: bool


class DisavowResponse(BaseModel):
    """The merged disavow file, what did not fit in it, and what changed."""

    disavow: str
    added_domains: list[str]
    added_urls: list[str]
    kept_entries: int
    marked: list[str]
    notes: list[str]
    model_version: str
    overflow: str = Field("", description="what did not fit in the file within Google's limits (existing lines, "
                                          "then recommended entries): empty when everything fit")
    full: str = Field("", description="one line saying what did not fit, empty when everything fit")


def scored_link(index: int, source_url: str, target_url: str | None, toxicity: float, verdict: str,
                reasons: str, anchor_class: str, placement: str) -> ScoredLink:
    """One scored link of a response, its '; '-joined reasons as a list."""
    return ScoredLink(index=index, source_url=source_url, target_url=target_url, toxicity=toxicity, verdict=verdict,
                      reasons=[r for r in reasons.split("; ") if r], anchor_class=anchor_class, placement=placement)

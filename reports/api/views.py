"""The intake API (DESIGN.md "Intake API"): thin views over `reports.services`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.http import client_ip
from moderation.audit import Actor
from reports.api import serializers as s
from reports.api.authentication import BearerTokenAuthentication, IsSourceOrganisation
from reports.api.problems import ProblemJSONRenderer, problem_response
from reports.api.throttles import TokenRateThrottle
from reports.models import Report
from reports.selectors import report_for_organisation, report_public_status, report_status
from reports.services.evidence import EvidenceInvalid, evidence_check, evidence_store
from reports.services.intake import (
    MAX_BATCH,
    Outcome,
    ReportInvalid,
    platforms_by_slug,
    report_input_parse,
    reports_receive,
)

PROBLEMS = {
    400: OpenApiResponse(s.Problem, description="Invalid input, with field errors"),
    401: OpenApiResponse(s.Problem, description="Missing, wrong or revoked token"),
    415: OpenApiResponse(s.Problem, description="Not application/json"),
    429: OpenApiResponse(s.Problem, description="Too many requests for this token"),
}


class IntakeView(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsSourceOrganisation]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer, ProblemJSONRenderer]

    @property
    def organisation(self):
        return self.request.auth.organisation


def report_out(report: Report, *, status_name: str | None = None) -> dict:
    return {
        "id": report.pk,
        "external_reference": report.external_reference,
        "case": report.case_id,
        "account": report.account_id,
        "status": status_name or report_status(report),
        "received_at": report.received_at,
        "receipt_code": report.receipt_code,
    }


def _outcome_status(outcome: Outcome) -> str:
    return report_public_status(case_status=outcome.case_status)


class ReportCreate(IntakeView):
    @extend_schema(
        request=s.ReportIn,
        responses={
            201: s.ReportOut,
            200: OpenApiResponse(s.ReportOut, description="The same report again: the original"),
            409: OpenApiResponse(s.Problem, description="Reference used with another body"),
            **PROBLEMS,
        },
        summary="Submit one report",
    )
    def post(self, request: Request) -> Response:
        try:
            item = report_input_parse(
                request.data, platforms=platforms_by_slug(), organisation=self.organisation
            )
        except ReportInvalid as exc:
            return problem_response(400, "The report is not valid; see errors.", errors=exc.errors)
        [outcome] = reports_receive(
            inputs=[item],
            organisation=self.organisation,
            actor=Actor.organisation(self.organisation),
            ip_address=client_ip(request),
        )
        if outcome.status == "conflict":
            return _conflict(outcome)
        code = status.HTTP_201_CREATED if outcome.status == "created" else status.HTTP_200_OK
        return Response(
            report_out(outcome.report, status_name=_outcome_status(outcome)), status=code
        )


def _conflict(outcome: Outcome) -> Response:
    return problem_response(
        409,
        "This external_reference was already used for a report with a different body.",
        report=outcome.report.pk,
    )


class ReportBatch(IntakeView):
    @extend_schema(
        request=s.BatchIn,
        responses={200: s.BatchOut, **PROBLEMS},
        summary=f"Submit up to {MAX_BATCH} reports; one result per item, in order",
    )
    def post(self, request: Request) -> Response:
        data = request.data
        items = data.get("reports") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return problem_response(
                400,
                "Expected an object with a list 'reports'.",
                errors={"reports": ["This field is required and must be a list."]},
            )
        if not items:
            return problem_response(400, "The batch is empty.", errors={"reports": ["Empty."]})
        if len(items) > MAX_BATCH:
            return problem_response(
                400,
                f"A batch holds at most {MAX_BATCH} reports; this one has {len(items)}.",
                errors={"reports": [f"At most {MAX_BATCH} items."]},
            )
        platforms = platforms_by_slug()
        results: list[dict | None] = [None] * len(items)
        valid, positions = [], []
        for index, raw in enumerate(items):
            try:
                valid.append(
                    report_input_parse(raw, platforms=platforms, organisation=self.organisation)
                )
                positions.append(index)
            except ReportInvalid as exc:
                results[index] = {"index": index, "status": 400, "errors": exc.errors}
        outcomes = reports_receive(
            inputs=valid,
            organisation=self.organisation,
            actor=Actor.organisation(self.organisation),
            ip_address=client_ip(request),
        )
        for index, outcome in zip(positions, outcomes, strict=True):
            result: dict = {"index": index}
            if outcome.status == "conflict":
                result.update(
                    status=409,
                    detail="external_reference already used with a different body",
                    report=outcome.report.pk,
                )
            else:
                result.update(
                    status=201 if outcome.status == "created" else 200,
                    report=report_out(
                        outcome.report,
                        status_name=_outcome_status(outcome),
                    ),
                )
            results[index] = result
        counts = {"created": 0, "duplicate": 0, "conflict": 0}
        for outcome in outcomes:
            counts[outcome.status] += 1
        return Response(
            {
                "created": counts["created"],
                "duplicates": counts["duplicate"],
                "conflicts": counts["conflict"],
                "invalid": len(items) - len(outcomes),
                "results": results,
            }
        )


class ReportDetail(IntakeView):
    @extend_schema(
        responses={200: s.ReportOut, 404: OpenApiResponse(s.Problem), **PROBLEMS},
        summary="Status of one of your own reports",
    )
    def get(self, request: Request, pk: int) -> Response:
        report = report_for_organisation(organisation=self.organisation, pk=pk)
        if report is None:
            return problem_response(404, "No report of yours has this id.")
        return Response(report_out(report))


class ReportEvidence(IntakeView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.EvidenceIn},
        responses={201: s.EvidenceOut, 404: OpenApiResponse(s.Problem), **PROBLEMS},
        summary="Upload a screenshot as evidence of one of your reports",
    )
    def post(self, request: Request, pk: int) -> Response:
        report = report_for_organisation(organisation=self.organisation, pk=pk)
        if report is None:
            return problem_response(404, "No report of yours has this id.")
        upload = request.FILES.get("file")
        if upload is None:
            return problem_response(
                400,
                "Send the file in the multipart field 'file'.",
                errors={"file": ["This field is required."]},
            )
        try:
            image = evidence_check(upload)
        except EvidenceInvalid as exc:
            return problem_response(400, str(exc), errors={"file": [str(exc)]})
        evidence = evidence_store(
            report=report,
            image=image,
            actor=Actor.organisation(self.organisation),
            uploaded_by_organisation=self.organisation,
            ip_address=client_ip(request),
        )
        return Response(
            {
                "id": evidence.pk,
                "report": report.pk,
                "content_type": evidence.content_type,
                "size": evidence.size,
                "sha256": evidence.sha256,
            },
            status=status.HTTP_201_CREATED,
        )

"""Traffic model: from monthly active users to requests per second per endpoint.

Why a model: capacity planning and the Locust task mix must agree on what "15 million monthly
active users" means for each endpoint. Keeping the arithmetic here, with every default
commented with its source (or marked as an assumption), means a changed assumption changes
both the load test and the capacity report.

Arithmetic, per endpoint::

    daily            = users(basis) × actions per user per day      (basis: DAU, MAU or city)
    peak-hour rps    = daily × peak_hour_share / 3600
    peak-second rps  = peak-hour rps × peak_second_factor

Sources (found with a web search; see loadtests/README.md for the full list and caveats):

[S1] https://3news.cn/24hot/2019/1017/369965.html (Oct 2019 press conference): 一网通办 had
     10.08 M real-name personal users; the 随申办 app had 3.12 M monthly active users.
[S2] https://chinaservicesinfo.com/s/202305/11/WS645dfc5f498ea274927ba75a/authorities-give-update-on-shanghai-e-governance-platform.html
     (China Daily, May 2023): the platform had served more than 80 M users by March 2023.
[S3] https://shine.cn/news/metro/2009035414 (Shanghai Daily, Sep 2020): the health code had
     been used over 1.2 billion times by more than 34 M users since February 2020
     (about 200 days, so roughly 6 M uses a day on average).
[S4] https://m.voc.com.cn/xhn/news/202203/17392184.html (Jiefang Daily reprint, Mar 2022):
     by 18 March 2022, 98,000 organisations held 188,000 venue codes (场所码) and residents had
     scanned them more than 100 M times. The start date of the count is not stated; the pilot
     began in Putuo on 2 March 2022 [S9], so if most scans fell after that, several million a
     day (100 M / 16 days ≈ 6 M).
[S5] https://touch.shio.gov.cn/jsp/zfxw_detail_en.jsp?id=20230206190803374 (Shanghai Daily via
     the city's information office, Feb 2023): Metro carried 10.18 M passengers on 3 Feb
     2023; the record is 13.29 M on 8 March 2019.
[S6] https://equalocean.com/briefing/20211130230099028 (Nov 2021, citing the Municipal
     Transportation Commission): H1 2021 Metro workday average 11.11 M, peak day 12.55 M.
[S7] China Daily, 26 June 2008, as mirrored at
     http://www.shenbo75.com/china/local/2008-06/26/content_15889520.htm (not an official
     site): about 25 % of Metro journeys were made in the four peak hours 07-09 and 17-19.
[S8] http://sh.news.cn/2022-05/12/c_1310591260.htm (Xinhua, May 2022): 413,000 organisations
     had been issued 1.327 M venue codes.
[S9] https://www.peopleweekly.cn/html/2022/yxsh_0325/117614.html (People's Daily studio, Mar
     2022): the venue code was piloted in Changzheng town, Putuo, from 2 March 2022.

No published figure was found for: daily/monthly active ratio, per-user action counts, how
long a code stays open, or the peak-second factor. Those defaults are assumptions, marked so.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

SECONDS_PER_HOUR = 3600
USER_CLASSES: tuple[str, ...] = ("resident", "scanner", "miniprogram", "operator")


@dataclass(frozen=True)
class TrafficModel:
    """The few parameters that drive the whole request mix; defaults describe a normal weekday."""

    # Given by the product brief (15 M MAU). For scale: 3.12 M MAU in Oct 2019 [S1], 34 M health
    # code users by Sep 2020 [S3], 80 M+ users served by the platform by Mar 2023 [S2].
    mau: int = 15_000_000
    # ASSUMPTION: no published DAU figure found. 0.4 assumes commuters open the code daily
    # (transport scene) while most residents use government services a few times a month.
    dau_ratio: float = 0.40
    # ASSUMPTION: app opens per daily user; each open polls the inbox badge (unread-count).
    app_opens_per_dau: float = 3.0
    # ASSUMPTION: 2 showings per daily user (to and from work). 6 M DAU × 2 = 12 M showings a day,
    # the order of Metro trips (10-13 M a day [S5][S6]); offline gates verify with the JWKS.
    codes_shown_per_dau: float = 2.0
    # ASSUMPTION: the code refreshes once a minute while open; a showing lasts 1-2 minutes, so
    # one fetch on open plus about one refresh.
    code_fetches_per_showing: float = 2.0
    # ASSUMPTION: online verifications by venue staff scanners (POST /v1/verify). 1.0 × 6 M DAU
    # = 6 M a day, the same order as the 2020 average of ~6 M code uses a day [S3].
    codes_scanned_per_dau: float = 1.0
    # ASSUMPTION: residents scanning a place code (POST /v1/checkins). Low outside a pandemic;
    # in March 2022 venue-code scans likely ran at several million a day [S4][S9] (see the
    # pandemic-2022 preset).
    checkins_per_dau: float = 0.2
    # ASSUMPTION: e-licence showings (wallet open + presentation + staff verification each).
    licences_shown_per_dau: float = 0.05
    # ASSUMPTION: inbox list views (GET /v1/inbox).
    inbox_checks_per_dau: float = 0.5
    # ASSUMPTION: "policies for me" views.
    policy_views_per_dau: float = 0.3
    # ASSUMPTION: profile fetches (GET /v1/me); the app caches the profile between opens.
    profile_views_per_dau: float = 0.5
    # ASSUMPTION: mini-program logins (login-code on the resident side + jscode2session).
    miniprogram_logins_per_dau: float = 0.3
    # ASSUMPTION: access tokens outlive a session but not a day: about one refresh a day.
    token_refreshes_per_dau: float = 1.0
    # ASSUMPTION: full OTP logins are rare (new device, expired refresh token).
    logins_per_dau: float = 0.01
    # ASSUMPTION: department licence upserts per MAU per day (~5 licences, each updated yearly).
    licence_updates_per_mau: float = 0.01
    # ASSUMPTION: city-wide, not per user: ~50 issuing departments renewing an hourly token.
    issuer_token_requests_per_day: float = 1_200.0
    # ASSUMPTION: city-wide policy campaigns per day and status polls per campaign.
    campaigns_per_day: float = 20.0
    campaign_status_polls_per_campaign: float = 30.0
    # ASSUMPTION: share of the day's requests in the peak hour (08:00-09:00 commute). A flat day
    # over 18 waking hours would be 5.6 %; [S7] implies ~6 %/hour averaged over four peak hours
    # for Metro; 10 % allows for the sharper 08:00-09:00 spike of code showings.
    peak_hour_share: float = 0.10
    # ASSUMPTION: peak second / average second within the peak hour (train arrivals emptying
    # onto gates, push notifications at the top of the hour). No published figure found; 2× is
    # our planning margin, to be replaced by a measured value once there is production traffic.
    peak_second_factor: float = 2.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"{f.name} must not be negative")
        if self.mau < 1:
            raise ValueError("mau must be >= 1")
        if not 0 < self.dau_ratio <= 1:
            raise ValueError("dau_ratio must be in (0, 1]")
        # The peak hour cannot carry less than the average hour, nor more than the whole day.
        if not 1 / 24 <= self.peak_hour_share <= 1:
            raise ValueError("peak_hour_share must be in [1/24, 1]")
        # The busiest second of an hour is at least as busy as its average second.
        if self.peak_second_factor < 1:
            raise ValueError("peak_second_factor must be >= 1")

    @property
    def dau(self) -> float:
        """Daily active users."""
        return self.mau * self.dau_ratio


#: Named parameter sets. "pandemic-2022" is a what-if upper bound inspired by spring 2022, when
#: a green code was needed to enter venues and residential compounds [S4][S8]; it is not a
#: reconstruction of measured 2022 traffic.
PRESETS: dict[str, TrafficModel] = {
    "normal": TrafficModel(),
    "pandemic-2022": TrafficModel(
        dau_ratio=0.8,
        codes_shown_per_dau=4.0,
        codes_scanned_per_dau=3.0,
        checkins_per_dau=2.0,
        app_opens_per_dau=6.0,
    ),
}


@dataclass(frozen=True)
class EndpointLoad:
    """Derived load on one endpoint of the public contract."""

    endpoint: str  # "METHOD /path" as written in CONTRACT.md
    user_class: str  # the Locust user class that drives it
    basis: str  # "DAU", "MAU" or "city" (fixed, does not scale with users)
    per_unit: float  # actions per user (or per city) per day
    formula: str  # how per_unit is computed from the model's parameters
    daily: float
    peak_hour_rps: float
    peak_second_rps: float

    @property
    def method(self) -> str:
        return self.endpoint.partition(" ")[0]

    @property
    def path(self) -> str:
        return self.endpoint.partition(" ")[2]

    @property
    def scales_with_users(self) -> bool:
        return self.basis != "city"


@dataclass(frozen=True)
class _Spec:
    endpoint: str
    user_class: str
    basis: str
    formula: str
    rate: Callable[[TrafficModel], float] = field(repr=False)


# Which user class drives which endpoint. The locustfile's user classes should issue exactly
# these requests; task_weights() gives their relative frequencies.
#   resident     the phone app: code, check-ins, inbox, policies, profile, wallet, auth
#   scanner      venue staff devices: verify a 随申码, verify a licence presentation
#   miniprogram  a mini-program login: resident asks for a login code, backend exchanges it
#   operator     departments and operators: licence upserts, issuer tokens, campaigns
_SPECS: tuple[_Spec, ...] = (
    _Spec("GET /v1/codes/suishen", "resident", "DAU", "codes_shown × code_fetches_per_showing",
          lambda m: m.codes_shown_per_dau * m.code_fetches_per_showing),
    _Spec("GET /v1/inbox/unread-count", "resident", "DAU", "app_opens",
          lambda m: m.app_opens_per_dau),
    _Spec("POST /v1/auth/refresh", "resident", "DAU", "token_refreshes",
          lambda m: m.token_refreshes_per_dau),
    _Spec("GET /v1/me", "resident", "DAU", "profile_views", lambda m: m.profile_views_per_dau),
    _Spec("GET /v1/inbox", "resident", "DAU", "inbox_checks", lambda m: m.inbox_checks_per_dau),
    _Spec("GET /v1/policies/for-me", "resident", "DAU", "policy_views",
          lambda m: m.policy_views_per_dau),
    _Spec("POST /v1/checkins", "resident", "DAU", "checkins", lambda m: m.checkins_per_dau),
    _Spec("GET /v1/licences", "resident", "DAU", "licences_shown",
          lambda m: m.licences_shown_per_dau),
    _Spec("POST /v1/licences/{id}/presentations", "resident", "DAU", "licences_shown",
          lambda m: m.licences_shown_per_dau),
    _Spec("POST /v1/auth/otp", "resident", "DAU", "logins", lambda m: m.logins_per_dau),
    _Spec("POST /v1/auth/login", "resident", "DAU", "logins", lambda m: m.logins_per_dau),
    _Spec("POST /v1/verify", "scanner", "DAU", "codes_scanned",
          lambda m: m.codes_scanned_per_dau),
    _Spec("POST /v1/presentations/verify", "scanner", "DAU", "licences_shown",
          lambda m: m.licences_shown_per_dau),
    _Spec("POST /v1/mp/{appid}/login-code", "miniprogram", "DAU", "miniprogram_logins",
          lambda m: m.miniprogram_logins_per_dau),
    _Spec("GET /sns/jscode2session", "miniprogram", "DAU", "miniprogram_logins",
          lambda m: m.miniprogram_logins_per_dau),
    _Spec("PUT /v1/issuer/licences/{type}/{number}", "operator", "MAU", "licence_updates_per_mau",
          lambda m: m.licence_updates_per_mau),
    _Spec("POST /v1/issuer/token", "operator", "city", "issuer_token_requests_per_day",
          lambda m: m.issuer_token_requests_per_day),
    _Spec("POST /v1/admin/policies/{id}/campaigns", "operator", "city", "campaigns_per_day",
          lambda m: m.campaigns_per_day),
    _Spec("GET /v1/admin/campaigns/{id}", "operator", "city",
          "campaigns_per_day × campaign_status_polls_per_campaign",
          lambda m: m.campaigns_per_day * m.campaign_status_polls_per_campaign),
)

#: Endpoints each Locust user class drives, in table order.
USER_CLASS_ENDPOINTS: dict[str, tuple[str, ...]] = {
    cls: tuple(s.endpoint for s in _SPECS if s.user_class == cls) for cls in USER_CLASSES
}


def _units(model: TrafficModel, basis: str) -> float:
    return {"DAU": model.dau, "MAU": float(model.mau), "city": 1.0}[basis]


def derive(model: TrafficModel) -> list[EndpointLoad]:
    """Per-endpoint daily requests, peak-hour and peak-second requests/s."""
    loads = []
    for spec in _SPECS:
        per_unit = spec.rate(model)
        daily = _units(model, spec.basis) * per_unit
        peak_hour = daily * model.peak_hour_share / SECONDS_PER_HOUR
        loads.append(EndpointLoad(
            endpoint=spec.endpoint, user_class=spec.user_class, basis=spec.basis,
            per_unit=per_unit, formula=spec.formula, daily=daily,
            peak_hour_rps=peak_hour, peak_second_rps=peak_hour * model.peak_second_factor,
        ))
    return loads


def total(loads: Sequence[EndpointLoad]) -> EndpointLoad:
    """Sum over endpoints (the same peak factors apply to all, so peaks add up)."""
    return EndpointLoad(
        endpoint="TOTAL", user_class="all", basis="-", per_unit=0.0, formula="sum",
        daily=sum(x.daily for x in loads),
        peak_hour_rps=sum(x.peak_hour_rps for x in loads),
        peak_second_rps=sum(x.peak_second_rps for x in loads),
    )


def _integer_weights(per_dau: dict[str, float], resolution: int) -> dict[str, int]:
    """Round rates per daily user to integers on a fixed scale (requests per `resolution` daily
    users per day), so a weight means the same thing in every class and doubling a parameter
    doubles the weights it drives. Every endpoint keeps at least weight 1 so that a rare one
    (OTP login, campaigns) is still exercised, over-represented."""
    if resolution < 1:
        raise ValueError("resolution must be >= 1")
    return {k: max(1, round(v * resolution)) for k, v in per_dau.items()}


def task_weights(model: TrafficModel, user_class: str, resolution: int = 1000) -> dict[str, int]:
    """Locust task weights for one user class: ``{"METHOD /path": int >= 1}``.

    The weight of an endpoint is its derived daily requests per ``resolution`` daily active
    users (default: per 1,000 DAU), so weights are proportional to the modelled rates of the
    endpoints the class drives (see ``USER_CLASS_ENDPOINTS``), apart from the floor of 1.
    """
    if user_class not in USER_CLASSES:
        raise ValueError(f"unknown user class {user_class!r}; expected one of {USER_CLASSES}")
    rates = {x.endpoint: x.daily / model.dau for x in derive(model) if x.user_class == user_class}
    return _integer_weights(rates, resolution)


def user_class_weights(model: TrafficModel, resolution: int = 1000) -> dict[str, int]:
    """Locust ``User.weight`` per class: its daily requests per ``resolution`` daily users.

    Valid when every class uses the same ``wait_time``, so each simulated user issues requests
    at the same pace and the user mix equals the request mix.
    """
    rates = dict.fromkeys(USER_CLASSES, 0.0)
    for x in derive(model):
        rates[x.user_class] += x.daily / model.dau
    return _integer_weights(rates, resolution)


def _fmt_int(x: float) -> str:
    return f"{round(x):,}"


def _fmt_rps(x: float) -> str:
    return f"{x:,.1f}" if x >= 0.05 or x == 0 else f"{x:.3f}"


def format_table(model: TrafficModel, markdown: bool = False) -> str:
    """The derived per-endpoint table plus the total, as aligned text or Markdown."""
    loads = derive(model)
    headers = ["endpoint", "class", "per day", "daily", "peak-hour rps", "peak-second rps"]
    rows = [[x.endpoint, x.user_class,
             f"{x.per_unit:g}/{x.basis}", _fmt_int(x.daily), _fmt_rps(x.peak_hour_rps),
             _fmt_rps(x.peak_second_rps)] for x in loads]
    t = total(loads)
    rows.append(["TOTAL", "", "", _fmt_int(t.daily), _fmt_rps(t.peak_hour_rps),
                 _fmt_rps(t.peak_second_rps)])
    numeric = {2, 3, 4, 5}
    summary = (f"MAU {model.mau:,} × DAU ratio {model.dau_ratio:g} = DAU {_fmt_int(model.dau)}; "
               f"peak hour {model.peak_hour_share:.0%} of the day; "
               f"peak second {model.peak_second_factor:g}× the peak-hour average")
    if markdown:
        align = ["---:" if i in numeric else "---" for i in range(len(headers))]
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
        for r in rows:
            cells = [f"`{c}`" if i == 0 and c and c != "TOTAL" else
                     (f"**{c}**" if r[0] == "TOTAL" and c else c) for i, c in enumerate(r)]
            lines.append("| " + " | ".join(cells) + " |")
        return summary + "\n\n" + "\n".join(lines) + "\n"
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(str(c).rjust(w) if i in numeric else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([summary, "", line(headers), sep, *map(line, rows[:-1]), sep,
                      line(rows[-1])]) + "\n"


def format_weights(model: TrafficModel) -> str:
    """Task weights per user class and the class weights, as aligned text."""
    out = [f"user class weights: {user_class_weights(model)}"]
    for cls in USER_CLASSES:
        out.append(f"{cls}:")
        for endpoint, w in task_weights(model, cls).items():
            out.append(f"  {w:>5}  {endpoint}")
    return "\n".join(out) + "\n"


def add_model_arguments(parser: argparse._ActionsContainer) -> None:
    """One --kebab-case option per TrafficModel field; None means "keep the preset's value"."""
    parser.add_argument("--preset", choices=sorted(PRESETS), default="normal",
                        help="starting parameter set (default: normal)")
    for f in dataclasses.fields(TrafficModel):
        flag = "--" + f.name.replace("_", "-")
        kind = int if f.type in ("int", int) else float
        parser.add_argument(flag, type=kind, default=None, metavar="N" if kind is int else "X",
                            help=f"default {f.default:g}" if kind is float else
                            f"default {f.default:,}")


def model_from_args(args: argparse.Namespace) -> TrafficModel:
    """Build the model from parsed arguments: the preset, overridden by explicit options."""
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrafficModel)
                 if getattr(args, f.name, None) is not None}
    return dataclasses.replace(PRESETS[args.preset], **overrides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.model", allow_abbrev=False,
        description="Print the derived per-endpoint load for the Suishenban traffic model.",
    )
    add_model_arguments(parser)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--weights", action="store_true",
                        help="also print the Locust task weights per user class")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model = model_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(format_table(model, markdown=args.markdown))
    if args.weights:
        sys.stdout.write("\n" + format_weights(model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The city's parameters: pydantic models read from a documented TOML file.

Every section forbids unknown keys, so a typo in ``city.toml`` is an error that names the key
instead of a silently ignored setting. ``city.toml`` beside this module holds the defaults with a
comment on every key; ``openscore simulate --print-config`` prints the effective configuration.
Amounts of money are in major units (a minor unit is a hundredth).
"""

from __future__ import annotations

import datetime as dt
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_extra_types.currency_code import ISO4217

from openscore.ledger.catalogue import (
    TERMS_VERSION_PATTERN,
    MerchantCategory,
    PaymentChannel,
    RentalKind,
)

DEFAULT_CONFIG = Path(__file__).with_name("city.toml")

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=0.5)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,62}$")]
Money = Annotated[float, Field(gt=0.0)]


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file and the key."""


def _check_vocabulary(key: str, values: dict[str, float], literal: Any) -> None:
    allowed = typing.get_args(literal)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"{key}: unknown {unknown}; allowed: {list(allowed)}")
    if values and sum(values.values()) <= 0:
        raise ValueError(f"{key}: weights must not all be zero")


def _check_range(key: str, pair: tuple[int, int]) -> None:
    if pair[0] > pair[1]:
        raise ValueError(f"{key}: the first value must not exceed the second")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CitySection(Section):
    members: int = Field(10_000, ge=10, le=50_000_000)
    months: int = Field(24, ge=1, le=600)
    seed: int = Field(7, ge=0)
    start: dt.date = dt.date(2023, 1, 1)
    currency: ISO4217 = ISO4217("EUR")
    terms_version: str = Field("1.0", pattern=TERMS_VERSION_PATTERN)
    initial_share: Share = 0.85
    leave_rate: Rate = 0.002

    @model_validator(mode="after")
    def _first_of_month(self) -> CitySection:
        if self.start.day != 1:
            raise ValueError(f"start {self.start} must be the first day of a month")
        return self


class PopulationSection(Section):
    groups: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,20}$")]] = ["A", "B"]
    group_shares: list[Share] = [0.7, 0.3]
    age_mean: float = Field(41.0, ge=18, le=80)
    age_sd: float = Field(14.0, gt=0, le=40)
    connections_opt_in_share: Share = 0.6
    segregation: float = Field(0.5, ge=0.0, le=3.0)

    @model_validator(mode="after")
    def _shares_match_groups(self) -> PopulationSection:
        if len(self.groups) < 2 or len(set(self.groups)) != len(self.groups):
            raise ValueError("groups needs two or more distinct names")
        if len(self.group_shares) != len(self.groups):
            raise ValueError("group_shares needs one share per group")
        if abs(sum(self.group_shares) - 1.0) > 1e-6:
            raise ValueError(f"group_shares must add up to 1, not {sum(self.group_shares)}")
        return self


class TraitsSection(Section):
    creditworthiness_conscientiousness: float = Field(0.5, ge=-0.9, le=0.9)
    creditworthiness_income: float = Field(0.3, ge=-0.9, le=0.9)
    creditworthiness_employment: float = Field(0.3, ge=-0.9, le=0.9)
    residential_employment: float = Field(0.3, ge=-0.9, le=0.9)


class IncomeSection(Section):
    median_monthly: Money = 2200.0
    dispersion: float = Field(0.5, gt=0, le=2)
    disadvantaged_group: str = "B"
    structural_disadvantage: float = Field(0.2, ge=0.0, lt=1.0)
    salaried_volatility: float = Field(0.04, ge=0, le=1)
    self_employed_volatility: float = Field(0.35, ge=0, le=2)
    self_employed_share: Share = 0.12
    unemployed_share: Share = 0.05
    benefits_replacement: Share = 0.45
    sick_pay_replacement: Share = 0.7
    pension_replacement: Share = 0.6
    december_bonus_share: Share = 0.3


def _default_categories() -> dict[str, float]:
    return {
        "groceries": 30.0,
        "dining": 12.0,
        "transport": 12.0,
        "travel": 2.0,
        "utilities": 3.0,
        "electronics": 2.0,
        "clothing": 7.0,
        "health": 4.0,
        "education": 1.5,
        "entertainment": 8.0,
        "gambling": 1.5,
        "charity": 1.0,
        "other": 16.0,
    }


def _default_channels() -> dict[str, float]:
    return {"card": 55.0, "mobile": 25.0, "transfer": 8.0, "cash": 12.0}


class SpendingSection(Section):
    purchases_per_month: float = Field(5.0, ge=0, le=200)
    category_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=_default_categories
    )
    channel_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=_default_channels
    )
    gambling_conscientiousness: float = Field(0.8, ge=0, le=3)

    @model_validator(mode="after")
    def _known_names(self) -> SpendingSection:
        _check_vocabulary("category_weights", self.category_weights, MerchantCategory)
        _check_vocabulary("channel_weights", self.channel_weights, PaymentChannel)
        return self


class BillsSection(Section):
    phone_share: Share = 0.92
    phone_amount: Money = 35.0
    utility_amount: Money = 90.0
    rent_to_income: float = Field(0.3, gt=0, le=1)
    late_share: Share = 0.04
    unpaid_share: Share = 0.005
    stress_slope: float = Field(0.8, ge=0, le=3)


class ProductSection(Section):
    name: Slug
    lenders: list[Slug] = Field(min_length=1)
    monthly_uptake: Rate
    initial_share: Share
    principal_median: Money
    principal_dispersion: float = Field(0.6, ge=0, le=2)
    terms: list[Annotated[int, Field(ge=1, le=480)]] = Field(min_length=1)
    rate_bp: tuple[
        Annotated[int, Field(ge=0, le=100_000)], Annotated[int, Field(ge=0, le=100_000)]
    ] = (
        0,
        0,
    )

    @model_validator(mode="after")
    def _ordered_range(self) -> ProductSection:
        _check_range("rate_bp", self.rate_bp)
        return self


def _default_products() -> list[ProductSection]:
    return [
        ProductSection(
            name="personal",
            lenders=["northbank", "lendwell"],
            monthly_uptake=0.012,
            initial_share=0.25,
            principal_median=4000.0,
            principal_dispersion=0.6,
            terms=[12, 24, 36, 48],
            rate_bp=(600, 1800),
        ),
        ProductSection(
            name="instalments",
            lenders=["paylater"],
            monthly_uptake=0.04,
            initial_share=0.12,
            principal_median=300.0,
            principal_dispersion=0.7,
            terms=[3, 4, 6, 12],
            rate_bp=(0, 0),
        ),
    ]


class CreditSection(Section):
    target_annual_default_rate: float = Field(0.07, gt=0.0, lt=0.5)
    default_rate_band: tuple[Share, Share] = (0.05, 0.10)
    creditworthiness_weight: float = Field(1.0, ge=0, le=5)
    conscientiousness_weight: float = Field(0.35, ge=0, le=5)
    employment_stability_weight: float = Field(0.2, ge=0, le=5)
    income_volatility_weight: float = Field(0.25, ge=0, le=5)
    monthly_noise: float = Field(0.5, ge=0, le=3)
    noise_persistence: float = Field(0.6, ge=0, lt=1)
    cure_rate: Share = 0.5
    cure_stress_slope: float = Field(0.7, ge=0, le=3)
    late_installment_share: Share = 0.03
    blocked_months_after_default: int = Field(24, ge=0, le=120)
    products: list[ProductSection] = Field(default_factory=_default_products, min_length=1)

    @model_validator(mode="after")
    def _band_contains_target(self) -> CreditSection:
        low, high = self.default_rate_band
        if not low <= self.target_annual_default_rate <= high:
            raise ValueError("target_annual_default_rate must lie inside default_rate_band")
        names = [p.name for p in self.products]
        if len(set(names)) != len(names):
            raise ValueError("credit product names must be unique")
        return self


class CourtsSection(Section):
    courts: list[Slug] = Field(default_factory=lambda: ["city-civil", "district"], min_length=1)
    sue_share: Share = 0.6
    judgment_delay_days: tuple[Annotated[int, Field(ge=31)], Annotated[int, Field(le=3650)]] = (
        60,
        240,
    )
    monthly_repay_rate: Share = 0.05
    court_costs: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered_range(self) -> CourtsSection:
        _check_range("judgment_delay_days", self.judgment_delay_days)
        return self


class ShocksSection(Section):
    job_loss_rate: Rate = 0.006
    job_loss_months: float = Field(4.0, ge=1, le=60)
    job_loss_effect: float = Field(1.6, ge=0, le=5)
    illness_rate: Rate = 0.004
    illness_months: float = Field(3.0, ge=1, le=60)
    illness_effect: float = Field(1.0, ge=0, le=5)
    after_effect_decay: Share = 0.6


class StabilitySection(Section):
    move_rate: Rate = 0.012
    job_change_rate: Rate = 0.01
    job_finding_rate: Rate = 0.12
    verified_at_enrolment: Share = 0.55
    monthly_verification: Rate = 0.04
    profile_at_enrolment: Share = 0.6
    monthly_profile: Rate = 0.02


class RentalPartner(Section):
    slug: Slug
    kind: str
    weight: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _known_kind(self) -> RentalPartner:
        _check_vocabulary("kind", {self.kind: 1.0}, RentalKind)
        return self


def _default_rental_partners() -> list[RentalPartner]:
    return [
        RentalPartner(slug="citycar", kind="car", weight=1.0),
        RentalPartner(slug="quickwheels", kind="car", weight=1.0),
        RentalPartner(slug="bikeshare", kind="bike", weight=3.0),
        RentalPartner(slug="chargebox", kind="power_bank", weight=4.0),
        RentalPartner(slug="brolly", kind="umbrella", weight=1.0),
        RentalPartner(slug="staywell", kind="apartment", weight=0.6),
        RentalPartner(slug="toolhire", kind="equipment", weight=0.8),
    ]


class RentalsSection(Section):
    monthly_rate: float = Field(0.3, ge=0, le=30)
    damage_share: Share = 0.02
    unpaid_share: Share = 0.015
    feedback_share: Share = 0.25
    problem_feedback_share: Share = 0.9
    partners: list[RentalPartner] = Field(default_factory=_default_rental_partners, min_length=1)
    rogue_partner: Slug = "quickwheels"
    rogue_false_negative_share: Share = 0.15

    @model_validator(mode="after")
    def _rogue_is_a_partner(self) -> RentalsSection:
        slugs = [p.slug for p in self.partners]
        if len(set(slugs)) != len(slugs):
            raise ValueError("rental partner slugs must be unique")
        if self.rogue_partner not in slugs:
            raise ValueError(f"rogue_partner {self.rogue_partner!r} is not one of the partners")
        return self


class SocialSection(Section):
    mean_degree: float = Field(12.0, ge=0, le=500)
    initial_share: Share = 0.6
    homophily_creditworthiness: Share = 0.4
    homophily_group: Share = 0.5
    context_share: Share = 0.35
    triadic_closure: Share = 0.2
    monthly_removal: Rate = 0.005
    window: float = Field(0.002, gt=0, le=0.5)


class GroupsSection(Section):
    members_per_region: int = Field(2500, ge=10)
    members_per_employer: int = Field(30, ge=2)
    members_per_club: int = Field(150, ge=5)
    community_join_share: Share = 0.3
    workplace_join_share: Share = 0.5
    club_join_rate: Rate = 0.02
    club_leave_rate: Rate = 0.02


class PartnersSection(Section):
    banks: list[Slug] = Field(default_factory=lambda: ["northbank", "citybank", "pocketpay"])
    telcos: list[Slug] = Field(default_factory=lambda: ["telco-one", "telco-two"])
    utilities: list[Slug] = Field(default_factory=lambda: ["city-power", "river-energy"])
    landlords: list[Slug] = Field(default_factory=lambda: ["homes-co", "flatlet"])
    identity_verifier: Slug = "idcheck"

    @model_validator(mode="after")
    def _non_empty(self) -> PartnersSection:
        for name in ("banks", "telcos", "utilities", "landlords"):
            if not getattr(self, name):
                raise ValueError(f"{name} needs at least one partner")
        return self


class RetractionsSection(Section):
    share: Rate = 0.002
    delay_days: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(le=365)]] = (1, 14)

    @model_validator(mode="after")
    def _ordered_range(self) -> RetractionsSection:
        _check_range("delay_days", self.delay_days)
        return self


class SimulationConfig(Section):
    """Everything that defines a city; the same config and seed give the same bytes."""

    city: CitySection = CitySection()
    population: PopulationSection = PopulationSection()
    traits: TraitsSection = TraitsSection()
    income: IncomeSection = IncomeSection()
    spending: SpendingSection = SpendingSection()
    bills: BillsSection = BillsSection()
    credit: CreditSection = CreditSection()
    courts: CourtsSection = CourtsSection()
    shocks: ShocksSection = ShocksSection()
    stability: StabilitySection = StabilitySection()
    rentals: RentalsSection = RentalsSection()
    social: SocialSection = SocialSection()
    groups: GroupsSection = GroupsSection()
    partners: PartnersSection = PartnersSection()
    retractions: RetractionsSection = RetractionsSection()

    @model_validator(mode="after")
    def _cross_checks(self) -> SimulationConfig:
        if self.income.disadvantaged_group not in self.population.groups:
            raise ValueError(
                f"income.disadvantaged_group {self.income.disadvantaged_group!r} is not one of "
                f"population.groups {self.population.groups}"
            )
        return self


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def validate_config(data: dict[str, Any], origin: str) -> SimulationConfig:
    """Build a config from parsed TOML, turning validation errors into one clear message."""
    try:
        return SimulationConfig.model_validate(data)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            message = problem["msg"].removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                message = "unknown key (see --print-config for every key)"
            lines.append(f"  {_location(problem['loc'])}: {message}")
        raise ConfigError(f"{origin}: invalid configuration\n" + "\n".join(lines)) from None


def load_config(path: Path | None = None, **overrides: Any) -> SimulationConfig:
    """Read a TOML config (the packaged defaults when ``path`` is None) and apply overrides.

    ``overrides`` set keys of the ``[city]`` section (``members``, ``months``, ``seed``,
    ``start``); None values are ignored so CLI options can be passed straight through.
    """
    source = path or DEFAULT_CONFIG
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such config file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    city = data.get("city", {})
    if isinstance(city, dict):
        city.update({key: value for key, value in overrides.items() if value is not None})
        data["city"] = city
    return validate_config(data, str(source))

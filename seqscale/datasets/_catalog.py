"""What each bundled data set is: frequency, columns, kinds, source and licence."""

from __future__ import annotations

from dataclasses import dataclass

#: Frequency name -> pandas offset alias of one time step (annual sets use int64 years).
FREQUENCIES = {
    "annual": "YS",
    "quarterly": "QS",
    "monthly": "MS",
    "weekly": "W-SAT",
    "business-daily": "B",
    "half-hourly": "30min",
}
#: How :func:`~seqscale.datasets.export_csv` writes the time column.
TIME_FORMATS = {
    "year": "1871",
    "year-quarter": "1959Q1",
    "year-month": "1949-01",
    "date": "1980-01-01",
    "datetime": "2000-06-05 00:30:00",
}
#: The kinds of series a data set stands for (see docs/datasets.md for the measured criteria).
KINDS = (
    "trending", "seasonal", "cyclic", "level-shift", "bounded", "tiny", "skewed", "heavy-tailed",
    "mixed-scale",
)  # fmt: skip


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of one bundled data set.

    Attributes
    ----------
    name : str
        Name for :func:`~seqscale.datasets.load_dataset`.
    description : str
        One line: what is measured, where, when, in which unit.
    frequency : str
        One of ``annual``, ``quarterly``, ``monthly``, ``weekly``, ``business-daily``,
        ``half-hourly``.
    time : str
        The time column: ``datetime64``, or int64 years for annual data.
    target : str
        The column to forecast.
    id : str or None
        The series id column of a panel in long format; ``None`` for a single series.
    season_length : int or None
        Time steps per season (12 for monthly data with a yearly pattern), ``None`` if none.
    kinds : tuple of str
        What the target is like (values from ``KINDS``).
    time_format : str
        How the CSV export writes the time column (a key of ``TIME_FORMATS``).
    rows, series : int
        Number of rows, and of series (1 unless a panel).
    source, licence : str
        Where the numbers come from and the terms they are shared under.

    Examples
    --------
    >>> from seqscale.datasets import dataset_info
    >>> info = dataset_info("airpassengers")
    >>> info.frequency, info.season_length, info.time_format
    ('monthly', 12, 'year-month')
    """

    name: str
    description: str
    frequency: str
    time: str
    target: str
    id: str | None
    season_length: int | None
    kinds: tuple[str, ...]
    time_format: str
    rows: int
    series: int
    source: str
    licence: str

    @property
    def pandas_freq(self) -> str:
        """The pandas offset alias of one time step, e.g. ``"MS"`` for monthly data."""
        return FREQUENCIES[self.frequency]


_STATSMODELS = "statsmodels.datasets"
_PMDARIMA = "pmdarima.datasets"
_PUBLIC = "Public domain"
_FORECAST = "Distributed with R's forecast package (GPL-3) and pmdarima (MIT)"

CATALOG: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        name="macrodata",
        description="US quarterly macro series (real GDP in 2005 US$ bn, rates in %), 1959Q1-2009Q3",
        frequency="quarterly",
        time="date",
        target="realgdp",
        id=None,
        season_length=None,
        kinds=("trending", "mixed-scale"),
        time_format="year-quarter",
        rows=203,
        series=1,
        source=f"{_STATSMODELS} macrodata (FRED, Federal Reserve Bank of St. Louis; US BLS)",
        licence=f"{_PUBLIC} (US government data)",
    ),
    DatasetInfo(
        name="co2",
        description="Weekly CO2 at Mauna Loa in ppm, 1958-2001 (59 missing weeks interpolated)",
        frequency="weekly",
        time="date",
        target="co2",
        id=None,
        season_length=52,
        kinds=("trending", "seasonal"),
        time_format="date",
        rows=2284,
        series=1,
        source=f"{_STATSMODELS} co2 (Keeling and Whorf, Scripps Institution of Oceanography)",
        licence=_PUBLIC,
    ),
    DatasetInfo(
        name="nile",
        description="Annual flow of the Nile at Aswan in 10^8 m^3, 1871-1970 (a drop after 1898)",
        frequency="annual",
        time="year",
        target="volume",
        id=None,
        season_length=None,
        kinds=("level-shift",),
        time_format="year",
        rows=100,
        series=1,
        source=f"{_STATSMODELS} nile (Cobb 1978, Biometrika 65)",
        licence=_PUBLIC,
    ),
    DatasetInfo(
        name="sunspots",
        description="Yearly mean sunspot number, 1700-2008 (an 11-year cycle)",
        frequency="annual",
        time="year",
        target="sunactivity",
        id=None,
        season_length=None,
        kinds=("cyclic", "skewed"),
        time_format="year",
        rows=309,
        series=1,
        source=f"{_STATSMODELS} sunspots (NOAA National Geophysical Data Center)",
        licence=_PUBLIC,
    ),
    DatasetInfo(
        name="grunfeld",
        description="Investment, value and capital of 11 US firms in US$ m, 1935-1954 (panel)",
        frequency="annual",
        time="year",
        target="invest",
        id="firm",
        season_length=None,
        kinds=("trending", "skewed", "heavy-tailed", "mixed-scale"),
        time_format="year",
        rows=220,
        series=11,
        source=f"{_STATSMODELS} grunfeld (Grunfeld 1950, as recreated by Kleiber and Zeileis 2008)",
        licence=_PUBLIC,
    ),
    DatasetInfo(
        name="fertility",
        description="Fertility rate in births per woman, 192 countries, 1960-2011 (panel)",
        frequency="annual",
        time="year",
        target="fertility",
        id="country",
        season_length=None,
        kinds=("trending",),
        time_format="year",
        rows=9881,
        series=192,
        source=f"{_STATSMODELS} fertility (World Bank, World Development Indicators SP.DYN.TFRT.IN)",
        licence="World Bank terms of use (CC BY 4.0)",
    ),
    DatasetInfo(
        name="interest_inflation",
        description="West German inflation and interest rate as fractions, 1972Q2-1998Q4",
        frequency="quarterly",
        time="date",
        target="rate",
        id=None,
        season_length=None,
        kinds=("trending", "bounded", "tiny"),
        time_format="year-quarter",
        rows=107,
        series=1,
        source=f"{_STATSMODELS} interest_inflation (Lutkepohl and Kratzig, JMulTi data set e6)",
        licence="Not stated by the source; redistributed with statsmodels (BSD-3-Clause)",
    ),
    DatasetInfo(
        name="elnino",
        description="Monthly sea surface temperature in deg C, Pacific Nino 1+2 region, 1950-2010",
        frequency="monthly",
        time="date",
        target="temperature",
        id=None,
        season_length=12,
        kinds=("seasonal",),
        time_format="year-month",
        rows=732,
        series=1,
        source=f"{_STATSMODELS} elnino (NOAA National Weather Service, ERSST.V3B)",
        licence=_PUBLIC,
    ),
    DatasetInfo(
        name="airpassengers",
        description="Monthly international airline passengers in thousands, 1949-1960",
        frequency="monthly",
        time="date",
        target="passengers",
        id=None,
        season_length=12,
        kinds=("trending", "seasonal"),
        time_format="year-month",
        rows=144,
        series=1,
        source=f"{_PMDARIMA} airpassengers (Box and Jenkins 1976)",
        licence="Distributed with R's datasets package (GPL-2) and pmdarima (MIT)",
    ),
    DatasetInfo(
        name="wineind",
        description="Monthly Australian wine sales in litres (bottles under 1 litre), Jan 1980 - Aug 1994",
        frequency="monthly",
        time="date",
        target="sales",
        id=None,
        season_length=12,
        kinds=("seasonal",),
        time_format="date",
        rows=176,
        series=1,
        source=f"{_PMDARIMA} wineind (Australian Bureau of Statistics, via R's forecast)",
        licence=_FORECAST,
    ),
    DatasetInfo(
        name="woolyrnq",
        description="Quarterly Australian woollen yarn production in tonnes, 1965Q1-1994Q3",
        frequency="quarterly",
        time="date",
        target="production",
        id=None,
        season_length=4,
        kinds=("trending", "seasonal"),
        time_format="date",
        rows=119,
        series=1,
        source=f"{_PMDARIMA} woolyrnq (Australian Bureau of Statistics, via R's forecast)",
        licence=_FORECAST,
    ),
    DatasetInfo(
        name="taylor",
        description="Half-hourly electricity demand in England and Wales in MW, June-August 2000",
        frequency="half-hourly",
        time="time",
        target="demand",
        id=None,
        season_length=48,
        kinds=("seasonal",),
        time_format="datetime",
        rows=4032,
        series=1,
        source=f"{_PMDARIMA} taylor (Taylor 2003, J. Operational Research Society 54)",
        licence=_FORECAST,
    ),
    DatasetInfo(
        name="msft",
        description="Daily Microsoft share prices in US$ (split-adjusted) and volume, 1986-2017",
        frequency="business-daily",
        time="date",
        target="close",
        id=None,
        season_length=None,
        kinds=("trending", "skewed", "heavy-tailed", "mixed-scale"),
        time_format="date",
        rows=7983,
        series=1,
        source=f"{_PMDARIMA} msft (Kaggle 'Huge Stock Market Dataset', Boris Marjanovic)",
        licence="Listed as CC0 1.0 on its Kaggle page; distributed with pmdarima (MIT)",
    ),
)

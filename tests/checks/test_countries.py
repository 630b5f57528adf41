"""The nationality list: ISO 3166-1 alpha-3 plus ICAO's own codes."""

from workflows.checks import countries


def test_every_current_iso_country_is_listed():
    assert len(countries.ISO_3166_ALPHA3) == 249
    assert {"DEU", "NLD", "USA", "SSD", "TLS", "XKX"} & countries.ISO_3166_ALPHA3 == {"DEU", "NLD", "USA", "SSD", "TLS"}


def test_icao_codes_for_germany_stateless_and_refugees_are_valid():
    for code in ("D<<", "XXA", "XXB", "XXC", "XXX", "GBN", "UNO", "EUE"):
        assert countries.is_known_code(code), code


def test_specimen_state_is_not_a_valid_nationality():
    assert "UTO" in countries.SPECIMEN_CODES
    assert not countries.is_known_code("UTO")


def test_list_covers_the_mrz_package_codes_except_historic_ones():
    from mrz.base.countries_ops import code_list

    # ANT and NTZ no longer exist, UTO is the specimen state, GB is a stray
    # entry, INP is that package's Interpol code (ICAO's is XPO).
    not_icao = {"ANT", "NTZ", "UTO", "GB", "INP"}
    missing = {code for code in code_list() if code not in countries.VALID_CODES} - not_icao
    assert not missing

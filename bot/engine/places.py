"""Countries named in a question, read as the word "country".

"Calls to Kenya fail, Singapore is fine" describes where calls fail, which the
knowledge base writes as "country": a coverage symptom. Country names and the
adjectives people use for them match in any case, and so does a calling code
standing alone ("+44 callers"); two-letter ISO codes, as in
a Session Summary's `destinationCountryCode`, only in capitals and only when
they are not also everyday words or abbreviations ("ID", "IT", "PR"). Words
that name a language as well ("thai text", "english prompt") are left alone,
because a language is about text to speech, not about where a call goes;
before a word for people, numbers or phones ("japanese customers") they name
the country.
"""
from __future__ import annotations

import re

COUNTRY = "country"

_ONE_WORD_NAMES = """
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria
burundi cambodia cameroon canada chile china colombia comoros congo croatia cuba cyprus czechia
denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon
gambia georgia germany ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland india
indonesia iran iraq ireland israel italy jamaica japan kazakhstan kenya kiribati kosovo kuwait
kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg macau macao
madagascar malawi malaysia maldives mali malta mauritania mauritius mexico micronesia moldova monaco
mongolia montenegro morocco mozambique myanmar burma namibia nauru nepal netherlands holland nicaragua
niger nigeria norway oman pakistan palau palestine panama paraguay peru philippines poland portugal qatar
romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain sudan
suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga tunisia turkey turkmenistan
tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe
uk usa uae ksa britain england scotland wales
"""
_MULTI_WORD_NAMES = """
united states, united kingdom, united arab emirates, south africa, south korea, north korea, south sudan,
new zealand, hong kong, saudi arabia, sri lanka, costa rica, el salvador, puerto rico, dominican republic,
czech republic, ivory coast, papua new guinea, sierra leone, burkina faso, cape verde, east timor,
timor leste, north macedonia, trinidad and tobago, viet nam
"""

# Adjectives for countries that are not also the name of a language.
_ADJECTIVES = """
afghan albanian algerian angolan argentine argentinian armenian australian austrian azerbaijani bahraini
bangladeshi belarusian belgian bolivian bosnian brazilian british bruneian bulgarian cambodian cameroonian
canadian chilean colombian congolese croatian cuban cypriot ecuadorian egyptian emirati eritrean estonian
ethiopian fijian filipino ghanaian guatemalan haitian honduran icelandic indian indonesian iranian iraqi
irish israeli ivorian jamaican jordanian kazakh kenyan kuwaiti kyrgyz laotian latvian lebanese liberian
libyan lithuanian luxembourgish malagasy malawian malaysian maldivian malian maltese mauritanian mauritian
mexican moldovan mongolian montenegrin moroccan mozambican namibian nepalese nicaraguan nigerian nigerien
omani pakistani palestinian panamanian paraguayan peruvian qatari rwandan salvadoran saudi senegalese
serbian singaporean slovak slovakian slovenian somali sudanese syrian taiwanese tanzanian tunisian
ugandan uruguayan uzbek venezuelan yemeni zambian zimbabwean
"""

# ISO 3166 two-letter codes, less those that are also common words or abbreviations in support chat.
ISO_CODES = frozenset("""
AE AF AR AU AZ BD BG BH BN BO BW BZ CH CL CN CO CY CZ DE DK DZ EC EE EG ES FI FJ FR GB GE GH GR
GT HK HN HU IE IL IQ IR JM JO JP KE KG KH KR KW KZ LB LK LT LU LV LY MM MN MX MY MZ NG NI NL NP NZ OM PE
PH PK PL PT PY RO RS RU RW SE SG SI SK SN SV SY TH TJ TN TR TW TZ UA UG UK US UY UZ VE VN YE ZA ZM ZW
""".split())

# Adjectives that name a language as well as a country: a country only before a word for people,
# numbers or phones ("japanese customers", "german numbers"), a language anywhere else ("thai text").
_LANGUAGES = frozenset("""
thai japanese vietnamese german french spanish chinese korean italian dutch portuguese russian turkish polish
greek swedish danish norwegian finnish hungarian czech romanian ukrainian burmese khmer lao malay mongolian
""".split())
_BEARERS = frozenset("""
customer customers caller callers user users number numbers mobile mobiles phone phones sim sims carrier carriers
operator operators network networks market markets rider riders driver drivers buyer buyers seller sellers
merchant merchants courier couriers passenger passengers tourist tourists visitor visitors traffic destination
destinations side leg legs
""".split())

_PHRASES = frozenset(
    {(name,) for name in _ONE_WORD_NAMES.split()}
    | {(name,) for name in _ADJECTIVES.split()}
    | {tuple(name.split()) for name in _MULTI_WORD_NAMES.replace("\n", " ").split(",") if name.strip()}
)
_FIRST_WORDS = frozenset(p[0] for p in _PHRASES) | _LANGUAGES
_LONGEST = max(len(p) for p in _PHRASES)

_WORD = re.compile(r"[a-z]+")  # runs of one class: linear time
_CAPITALS = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}(?![A-Za-z0-9])")  # exactly two capitals, standing alone


# A country calling code standing alone ("+44", "(+61)", "+84 numbers"), not the start of a phone
# number ("+6591234567", "+65 6xxx", "+1-555"): a plus, one to three digits, and no digit, letter or
# number part after them. Fixed-length parts only: linear time.
_DIALLING_CODE = re.compile(r"(?<![\w+])\+\d{1,3}(?![\w+])(?![ -]?[\dxX])")


def countries_as_words(text: str) -> str:
    """The text with every country it names replaced by "country" (and in lower case)."""
    if "+" in text:
        text = _DIALLING_CODE.sub(f" {COUNTRY} ", text)
    text = _CAPITALS.sub(lambda m: f" {COUNTRY} " if m.group(0) in ISO_CODES else m.group(0), text)
    lowered = text.lower()
    if _FIRST_WORDS.isdisjoint(_WORD.findall(lowered)):  # most questions name no country
        return lowered
    runs = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(lowered)]
    out, last, i = [], 0, 0
    while i < len(runs):
        if runs[i][2] not in _FIRST_WORDS:
            i += 1
            continue
        if runs[i][2] in _LANGUAGES:
            if i + 1 < len(runs) and runs[i + 1][2] in _BEARERS:
                out.append(lowered[last : runs[i][0]])
                out.append(COUNTRY)
                last = runs[i][1]
            i += 1
            continue
        for n in range(min(_LONGEST, len(runs) - i), 0, -1):
            if tuple(w for _, _, w in runs[i : i + n]) in _PHRASES:
                out.append(lowered[last : runs[i][0]])
                out.append(COUNTRY)
                last = runs[i + n - 1][1]
                i += n
                break
        else:
            i += 1
    out.append(lowered[last:])
    return "".join(out)

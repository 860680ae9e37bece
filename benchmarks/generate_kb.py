"""Generate a large synthetic knowledge base in the schema of knowledge/number-masking.yaml.

Deterministic for a given seed. Codes run -100000, -100001, ...; every entry
has every required field. Words come from a vocabulary of ~3,000 distinct
words (about 250 real telephony/IT words plus pronounceable pseudo-words built
from syllables), drawn with a Zipf-Mandelbrot frequency law so that a few
words are common across many entries and most are rare, as in real text.
Each entry also has a small "topic" of its own words that most of its
phrases share, like real entries ("coverage", "trunk capacity").

    .venv/bin/python benchmarks/generate_kb.py --entries 10000   # -> benchmarks/data/kb-10000-seed1.yaml
"""
from __future__ import annotations

import argparse
import random
import string
from pathlib import Path

from _common import DATA

REAL_WORDS = """
    account active address agent alarm alert allocation answer archive audio authentication authorize
    backend backoff balance bandwidth billing binding blacklist bucket buffer cache callee caller capacity
    carrier certificate channel checksum cluster codec config connection connector console contact
    container country coverage credential credit dashboard database datacenter deadline delivery
    destination device dialer dialplan digest directory domain download duration endpoint enrollment
    entitlement event expiry export extension failover fallback feature firewall format forward gateway
    greeting handler handshake header health hostname identity inbound ingress instance interval invoice
    ivr jitter keepalive landline latency lease license listener locale mapping media metadata migration
    mobile module msisdn namespace network node notification operator outbound override packet
    parameter partner payload peering permission pipeline playback policy pool portal prefix prompt
    protocol provider provisioning proxy queue quota range recording redirect region registrar registry
    relay replica request reservation resolver retention retry ringback ringing roaming route routing
    rule sandbox scenario schema secret segment sender sequence server signature signaling socket source
    speech stream subaccount subscriber subscription switch synthesize tenant template tenancy throttle
    ticket timeout token topology trace traffic transcode transfer transport trunk tunnel upload uptime
    validity vendor verification virtual voicemail voice webhook whitelist window worker workflow zone
    allocate bridge dial hangup reroute resync reconnect redial provision dispatch escalate validate
    expire exceed throttling concurrent parallel duplicate missing invalid unreachable unavailable
    rejected blocked suspended disabled expired congested degraded orphaned stale malformed misrouted
    premium tollfree geographic national international emergency shortcode longcode alphanumeric
    e164 sip rtp srtp tls dtmf pstn voip ussd smpp http https json xml yaml utf8 ipv4 ipv6
""".split()

ONSETS = "b c d f g h j k l m n p r s t v w z bl br ch cl cr dr fl fr gl gr pl pr sh sk sl sp st str th tr".split()
NUCLEI = "a e i o u a e i o u ai ea ee io oo ou".split()
CODAS = [""] * 6 + "n r s t l m x nd nt rk st ck ng".split()

# Plain English for off-topic chatter; few of these are knowledge-base words.
CHATTER = """
    lunch meeting laptop holiday printer password badge parking coffee kitchen calendar invite slides
    birthday weekend vacation office desk monitor keyboard headphones onboarding payroll expense
    receipt flight hotel taxi train schedule agenda standup retro sprint review merge branch release
    notes wiki page font logo colour design mockup survey feedback newsletter webinar podcast video
    spreadsheet chart budget forecast quarter target bonus promotion interview candidate resume
    manager director intern mentor training course workshop conference venue catering pizza cake
    umbrella weather rain snow sunshine football match score tickets concert movie book recipe garden
""".split()
OFF_TOPIC = [
    "does anyone know where the {a} for the {b} is kept?",
    "who is organising the {a} on friday, and is there {b}?",
    "can someone review my {a} before the {b} tomorrow",
    "reminder: {a} and {b} at 3pm in the big room",
    "is the {a} broken again or is it just my {b}",
    "thanks everyone for the {a}, the {b} was great",
    "what time does the {a} start, I have a {b} right after",
    "quick poll: {a} or {b} for the team outing?",
]
QUESTION_FORMS = [
    "{p}",
    "getting {p} errors on masked calls since this morning",
    "customer reports sessions failing with {p}, any idea what it means?",
    "hey team, calls failed again with {p} for one subaccount after the deploy, what should we check",
    "why do we see {p} in the session summary?",
    "{p} error - is that on our side or 8x8's?",
]
FUNCTION_WORDS = "not the for on with when no to of from in after".split()
CATEGORIES = "platform call-flow media routing caller-id capacity session".split()
OWNERS = ("customer", "8x8", "both")
MESSAGE_FORMS = [
    "No {a} available for requested {b}",
    "The {a} {b} provided is invalid",
    "Unable to {c} {a} for {b}",
    "The {a} {b} has been exceeded",
    "The provided {a} or {b} is not {c}",
    "An unexpected {a} {b} error has occurred",
]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """REAL_WORDS plus distinct pseudo-words, shuffled so that rank is independent of origin."""
    from nmbot.engine.text import STOPWORDS

    words = list(dict.fromkeys(REAL_WORDS))
    seen = set(words) | STOPWORDS | set(CHATTER)
    while len(words) < size:
        word = "".join(rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS) for _ in range(rng.choice((2, 2, 3))))
        if 4 <= len(word) <= 12 and word not in seen:
            seen.add(word)
            words.append(word)
    rng.shuffle(words)
    return words


class Zipf:
    """Draws words with probability proportional to 1 / (rank + q) ** s (Zipf-Mandelbrot)."""

    def __init__(self, rng: random.Random, words: list[str], s: float = 1.0, q: float = 20.0):
        self.rng, self.words = rng, words
        total, self.cum = 0.0, []
        for rank in range(1, len(words) + 1):
            total += 1.0 / (rank + q) ** s
            self.cum.append(total)

    def draw(self, k: int = 1) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)


def sentence(rng: random.Random, zipf: Zipf, topic: list[str], n: int) -> str:
    words = [rng.choice(topic) if rng.random() < 0.15 else (rng.choice(FUNCTION_WORDS) if rng.random() < 0.3 else zipf.draw()[0])
             for _ in range(n)]
    return " ".join(words).capitalize() + "."


def entry(rng: random.Random, zipf: Zipf, code: int, codes: range, messages: set[str]) -> dict:
    topic = zipf.draw(3) + rng.sample(zipf.words, 2)  # some shared words, some rare ones
    while True:
        a, b, c = rng.choice(topic), zipf.draw()[0], zipf.draw()[0]
        message = rng.choice(MESSAGE_FORMS).format(a=a, b=b, c=c)
        if message not in messages:
            messages.add(message)
            break
    phrases: list[str] = []
    wanted = rng.randint(8, 15)
    while len(phrases) < wanted:
        words = [rng.choice(topic)] + zipf.draw(rng.randint(1, 3))
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words) + 1), rng.choice(FUNCTION_WORDS))
        phrase = " ".join(words)
        if phrase not in phrases:
            phrases.append(phrase)
    return {
        "code": code,
        "message": message,
        "title": " ".join([rng.choice(topic)] + zipf.draw(rng.randint(2, 5))).capitalize(),
        "category": rng.choice(CATEGORIES),
        "meaning": " ".join(sentence(rng, zipf, topic, rng.randint(8, 14)) for _ in range(rng.randint(1, 2))),
        "causes": [sentence(rng, zipf, topic, rng.randint(6, 12)) for _ in range(rng.randint(2, 4))],
        "steps": [sentence(rng, zipf, topic, rng.randint(6, 14)) for _ in range(rng.randint(3, 5))],
        "owner": rng.choice(OWNERS),
        "owner_detail": sentence(rng, zipf, topic, 12),
        "escalate": ["sessionId of a failing session", "subAccountId", sentence(rng, zipf, topic, 5)],
        "related": sorted({rng.choice(codes) for _ in range(2)} - {code}, reverse=True),
        "docs": f"https://developer.8x8.com/connect/docs/voice/error-codes/generated#{-code}",
        "phrases": phrases,
        "examples": [rng.choice(QUESTION_FORMS).format(p=p) for p in rng.sample(phrases, 2)],
    }


def generate(entries: int = 10_000, seed: int = 1, vocab_size: int = 3_000) -> dict:
    rng = random.Random(seed)
    vocab = vocabulary(rng, vocab_size)
    zipf = Zipf(rng, vocab)
    codes = range(-100000, -100000 - entries, -1)
    messages: set[str] = set()
    known = set(vocab)
    synonyms = {}
    for target in zipf.draw(30):  # misspellings and variants people type, mapped to a vocabulary word
        variant = target + rng.choice(["ify", "ness", "ation", "ful", "ism"])
        if variant not in known:
            synonyms[variant] = target
    return {
        "version": f"synthetic.{entries}.{seed}",
        "synonyms": synonyms,
        "entries": [entry(rng, zipf, code, codes, messages) for code in codes],
    }


def typo(rng: random.Random, word: str) -> str:
    """One edit: substitution, adjacent transposition, deletion or insertion."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    letter = rng.choice(string.ascii_lowercase)
    if kind == 0:
        return word[:i] + letter + word[i + 1 :]
    if kind == 1:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i + 1 :]
    return word[:i] + letter + word[i:]


def chatter(rng: random.Random) -> str:
    a, b = rng.sample(CHATTER, 2)
    return rng.choice(OFF_TOPIC).format(a=a, b=b)


def questions(kb, n: int, seed: int = 2, off_topic: float = 0.25) -> list[tuple[str, int | None]]:
    """(question, expected code or None) for a loaded KnowledgeBase: one of an entry's phrases
    with typos, synonyms and Slack-like wording around it, or off-topic chatter."""
    rng = random.Random(seed)
    entries = list(kb.entries)
    synonyms_back = {v: k for k, v in kb.synonyms if " " not in k}
    out: list[tuple[str, int | None]] = []
    for _ in range(n):
        if rng.random() < off_topic:
            out.append((chatter(rng), None))
            continue
        e = rng.choice(entries)
        words = rng.choice(e.phrases).split()
        long_ones = [i for i, w in enumerate(words) if len(w) >= 5]
        for i in rng.sample(long_ones, min(len(long_ones), rng.choice((1, 1, 2)))):
            words[i] = typo(rng, words[i])
        words = [synonyms_back.get(w, w) if rng.random() < 0.5 else w for w in words]
        text = rng.choice(QUESTION_FORMS).format(p=" ".join(words))
        if rng.random() < 0.2:
            text += " (also, " + chatter(rng) + ")"
        out.append((text, e.code))
    return out


def write(doc: dict, path: Path) -> Path:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# Synthetic knowledge base for benchmarks (benchmarks/generate_kb.py); not real 8x8 codes.\n")
        yaml.dump(doc, f, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    tmp.replace(path)
    return path


def ensure(entries: int = 10_000, seed: int = 1) -> Path:
    """The YAML file for (entries, seed), generated only if it is not there yet."""
    path = DATA / f"kb-{entries}-seed{seed}.yaml"
    if not path.exists():
        write(generate(entries, seed), path)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description="Generate a synthetic knowledge base (YAML) for bench_resolver.py.")
    p.add_argument("--entries", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, help="default: benchmarks/data/kb-ENTRIES-seedSEED.yaml (reused if present)")
    args = p.parse_args()
    path = write(generate(args.entries, args.seed), args.out) if args.out else ensure(args.entries, args.seed)
    print(f"{path}: {args.entries} entries, {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

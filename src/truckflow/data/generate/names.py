"""Driver names: first names, surnames and the rare suffix, as in the course's drivers table."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["person_names"]


def _words(text: str) -> list[str]:
    return text.split()


_MALE = _words(
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel "
    "Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy "
    "Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin "
    "Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry "
    "Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold "
    "Keith Christian Roger Noah Gerald Carl Terry Sean Austin Arthur Lawrence Jesse Dylan Bryan "
    "Joe Jordan Billy Bruce Albert Willie Gabriel Logan Alan Juan Wayne Roy Ralph Randy Eugene "
    "Vincent Russell Elijah Louis Bobby Philip Johnny Clifford Brendan Travis Curtis Dustin"
)
_FEMALE = _words(
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma "
    "Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather"
)
_SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook "
    "Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward "
    "Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez "
    "Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
    "Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson "
    "Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera "
    "Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison "
    "Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
    "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason "
    "Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
    "Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan "
    "Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart "
    "Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Ray "
    "Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence "
    "Sandoval Marks Carr Faulkner Jacobs"
)
_SUFFIXES = ("MD", "Jr.", "DDS", "PhD", "II", "III", "DVM", "IV")
_SUFFIX_RATE = 0.025


def person_names(rng: np.random.Generator, female: NDArray[np.bool_]) -> list[str]:
    """One name per driver; ``female`` picks the first-name list."""
    n = len(female)
    male_first = np.asarray(_MALE)[rng.integers(0, len(_MALE), n)]
    female_first = np.asarray(_FEMALE)[rng.integers(0, len(_FEMALE), n)]
    first = np.where(female, female_first, male_first)
    last = np.asarray(_SURNAMES)[rng.integers(0, len(_SURNAMES), n)]
    suffix = np.asarray(_SUFFIXES)[rng.integers(0, len(_SUFFIXES), n)]
    has_suffix = rng.random(n) < _SUFFIX_RATE
    return [
        f"{f} {s} {x}" if h else f"{f} {s}"
        for f, s, x, h in zip(
            first.tolist(), last.tolist(), suffix.tolist(), has_suffix.tolist(), strict=True
        )
    ]

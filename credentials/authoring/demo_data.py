"""Three realistic micro-credentials for the demo: literacy, leadership and equity-focused practice."""

from __future__ import annotations

from typing import Any

LEVELS = [
    ("Not yet", 0, "The evidence does not yet show the practice."),
    ("Developing", 1, "The practice is present but partial or inconsistent."),
    ("Proficient", 2, "The practice is present, consistent and effective for students."),
    ("Exemplary", 3, "The practice is refined and others could learn from it."),
]


def _levels(focus: str) -> list[dict[str, Any]]:
    return [{"name": name, "points": points, "descriptor": f"{text} ({focus})"} for name, points, text in LEVELS]


def _criterion(key: str, name: str, requirements: list[str], description: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "description": description,
        "requirements": requirements,
        "levels": _levels(name.lower()),
    }


CLOSE_READING: dict[str, Any] = {
    "title": "Close Reading of Complex Texts",
    "short_description": "Plan and lead close reading so students cite textual evidence in their analysis.",
    "competency_statement": "The educator designs and facilitates close reading of a complex text, using "
    "text-dependent questions that lead students to cite evidence to support their analysis.",
    "key_method": "Select a short, complex text. Plan three reads with a distinct purpose each (what the text "
    "says, how it says it, what it means). Write text-dependent questions for each read, model annotation, and "
    "have students answer in writing with cited evidence.",
    "method_components": [
        {
            "name": "Text selection",
            "description": "Quantitative and qualitative complexity fit the grade band.",
        },
        {"name": "Text-dependent questions", "description": "Questions can only be answered from the text."},
        {"name": "Evidence-based writing", "description": "Students cite the text to support claims."},
    ],
    "supporting_research": [
        {
            "citation": "Fisher, D., & Frey, N. (2012). Close reading in elementary schools. The Reading Teacher, "
            "66(3), 179-188."
        },
        {"citation": "Shanahan, T. (2012). What is close reading? Shanahan on Literacy."},
    ],
    "resources": [
        {
            "title": "Text complexity rubric (district literacy team)",
            "url": "https://riverside.demo.example/literacy/text-complexity",
        }
    ],
    "tags": ["literacy", "reading", "ELA"],
    "estimated_hours": 15,
    "credits": 1.5,
    "validity_days": 3 * 365,
    "max_attempts": 3,
    "passing_rule": {"level": "Proficient"},
    "requirements": [
        {
            "key": "lesson-plan",
            "title": "Lesson plan",
            "evidence_kind": "file",
            "allowed_file_types": ["pdf", "docx"],
            "min_files": 1,
            "max_files": 2,
            "prompt": "Upload the close reading lesson plan, with the text, its complexity analysis and your "
            "text-dependent questions for each read.",
        },
        {
            "key": "student-work",
            "title": "Student work samples",
            "evidence_kind": "file",
            "allowed_file_types": ["pdf", "png", "jpeg"],
            "min_files": 3,
            "max_files": 6,
            "prompt": "Upload three samples of student writing from the lesson (names removed): one below, one at and "
            "one above expectations.",
        },
        {
            "key": "reflection",
            "title": "Reflection",
            "evidence_kind": "text",
            "min_words": 300,
            "max_words": 900,
            "prompt": "What did the samples show about students' use of evidence, and what will you change next time?",
        },
    ],
    "rubric": [
        _criterion(
            "planning",
            "Planning for close reading",
            ["lesson-plan"],
            "Text choice and the purpose of each read.",
        ),
        _criterion(
            "questioning",
            "Text-dependent questions",
            ["lesson-plan"],
            "Questions require students to return to the text.",
        ),
        _criterion(
            "student-evidence",
            "Student use of evidence",
            ["student-work"],
            "Samples show students citing the text to support analysis.",
        ),
        _criterion(
            "reflection",
            "Reflective practice",
            ["reflection"],
            "The reflection draws conclusions from the student work.",
        ),
    ],
}

COLLABORATIVE_INQUIRY: dict[str, Any] = {
    "title": "Leading Collaborative Inquiry Teams",
    "short_description": "Facilitate a teacher team through a cycle of inquiry into student learning.",
    "competency_statement": "The educator leads a team of colleagues through a full cycle of collaborative "
    "inquiry: a shared question about student learning, evidence collected, a change in practice, and its effect.",
    "key_method": "Use a structured inquiry cycle with agreed norms and protocols for looking at student work; "
    "keep notes of each meeting and the decisions taken.",
    "method_components": [
        {
            "name": "Norms and protocols",
            "description": "The team agrees norms and uses a protocol each time.",
        },
        {"name": "Inquiry question", "description": "A question about student learning the team can act on."},
        {"name": "Evidence cycle", "description": "Data gathered, analysed, acted on and checked again."},
    ],
    "supporting_research": [
        {"citation": "DuFour, R., & Eaker, R. (1998). Professional learning communities at work. Solution Tree."},
        {
            "citation": "Vescio, V., Ross, D., & Adams, A. (2008). A review of research on the impact of professional "
            "learning communities. Teaching and Teacher Education, 24(1), 80-91."
        },
    ],
    "resources": [
        {
            "title": "Looking at student work protocol",
            "url": "https://riverside.demo.example/leadership/protocols",
        }
    ],
    "tags": ["leadership", "collaboration", "professional learning"],
    "estimated_hours": 20,
    "credits": 2,
    "validity_days": 3 * 365,
    "max_attempts": 2,
    "passing_rule": {"level": "Proficient", "points": 7},
    "requirements": [
        {
            "key": "inquiry-plan",
            "title": "Inquiry plan",
            "evidence_kind": "file",
            "allowed_file_types": ["pdf", "docx"],
            "min_files": 1,
            "max_files": 1,
            "prompt": "Upload the team's inquiry plan: question, norms, protocol and meeting calendar.",
        },
        {
            "key": "meeting-notes",
            "title": "Meeting notes",
            "evidence_kind": "file",
            "allowed_file_types": ["pdf", "docx"],
            "min_files": 3,
            "max_files": 8,
            "prompt": "Upload notes from at least three meetings showing decisions taken from evidence.",
        },
        {
            "key": "impact",
            "title": "Impact summary",
            "evidence_kind": "text",
            "min_words": 400,
            "max_words": 1200,
            "prompt": "Summarise what changed in practice and what the evidence shows about the effect on students.",
        },
    ],
    "rubric": [
        _criterion("structure", "Structure and norms", ["inquiry-plan"], "The cycle is planned with norms."),
        _criterion("use-of-evidence", "Use of evidence", ["meeting-notes"], "Decisions follow from evidence."),
        _criterion("impact", "Impact on practice", ["impact"], "Changes in practice and their effect are shown."),
    ],
}

RESPONSIVE_PRACTICE: dict[str, Any] = {
    "title": "Culturally Responsive Classroom Practices",
    "short_description": "Connect instruction to students' cultures, languages and experiences.",
    "competency_statement": "The educator learns about students' cultural and linguistic assets and uses them "
    "to design instruction that holds every student to high expectations.",
    "key_method": "Gather information on students' backgrounds and interests with a survey or interviews; "
    "revise a unit to draw on what you learned; teach it and collect student feedback.",
    "method_components": [
        {"name": "Learning about students", "description": "Survey, interviews or home visits."},
        {"name": "Asset-based design", "description": "Content and tasks draw on students' experiences."},
        {"name": "High expectations", "description": "Rigour is kept for every student."},
    ],
    "supporting_research": [
        {
            "citation": "Ladson-Billings, G. (1995). Toward a theory of culturally relevant pedagogy. American "
            "Educational Research Journal, 32(3), 465-491."
        },
        {"citation": "Gay, G. (2018). Culturally responsive teaching (3rd ed.). Teachers College Press."},
    ],
    "resources": [{"title": "Student interest survey template", "url": "https://riverside.demo.example/equity/survey"}],
    "tags": ["equity", "culturally responsive teaching"],
    "estimated_hours": 12,
    "credits": 1,
    "validity_days": None,
    # Renewed by evidence every two years: its badges are valid 24 months, renewed by a lighter submission.
    "renewal": {
        "every_months": 24,
        "requirements": [
            {
                "key": "current-practice",
                "title": "Your practice now",
                "evidence_kind": "text",
                "min_words": 150,
                "max_words": 600,
                "prompt": "How do you use culturally responsive practices this year, and what have you changed?",
            }
        ],
        "rubric": [
            {
                "key": "currency",
                "name": "Practice is current",
                "requirements": ["current-practice"],
                "levels": [
                    {"name": "Lapsed", "points": 0, "descriptor": "No recent use described."},
                    {"name": "Current", "points": 1, "descriptor": "Recent use, with what changed and why."},
                ],
            }
        ],
        "passing_rule": {"level": "Current"},
    },
    "max_attempts": 3,
    "passing_rule": {"points": 5},
    "requirements": [
        {
            "key": "student-profile",
            "title": "What you learned about students",
            "evidence_kind": "text",
            "min_words": 250,
            "max_words": 800,
            "prompt": "Describe how you learned about your students and what you learned (no names).",
        },
        {
            "key": "revised-unit",
            "title": "Revised unit",
            "evidence_kind": "file",
            "allowed_file_types": ["pdf", "docx", "pptx"],
            "min_files": 1,
            "max_files": 3,
            "prompt": "Upload the unit before and after your revision, with the changes marked.",
        },
        {
            "key": "student-voice",
            "title": "Student feedback",
            "evidence_kind": "link",
            "required": False,
            "prompt": "Optionally, link to a short video or padlet of student feedback (shared with view access).",
        },
    ],
    "rubric": [
        _criterion("knowing-students", "Knowing students", ["student-profile"], "Assets, not deficits."),
        _criterion("design", "Responsive design", ["revised-unit", "student-voice"], "The unit draws on students."),
        _criterion("expectations", "High expectations", ["revised-unit"], "Rigour is kept for all."),
    ],
}

DATA_INFORMED: dict[str, Any] = {
    "title": "Data-Informed Instruction",
    "short_description": "Use formative assessment data to adjust instruction within a unit.",
    "competency_statement": "The educator collects formative assessment data during a unit and uses it to "
    "regroup students and adjust instruction.",
    "key_method": "Plan checks for understanding at three points of a unit; analyse results with a simple "
    "tracker; regroup and reteach.",
    "tags": ["assessment", "data"],
    "estimated_hours": 10,
    "credits": 1,
    "validity_days": 2 * 365,
    "passing_rule": {"level": "Proficient"},
    "requirements": [
        {
            "key": "tracker",
            "title": "Data tracker",
            "evidence_kind": "file",
            "allowed_file_types": ["xlsx", "csv", "pdf"],
            "min_files": 1,
            "max_files": 1,
            "prompt": "Upload your tracker with the three checks (no student names).",
        },
        {
            "key": "adjustments",
            "title": "Adjustments",
            "evidence_kind": "text",
            "min_words": 200,
            "max_words": 700,
            "prompt": "Explain how you regrouped students and what you retaught, and why.",
        },
    ],
    "rubric": [
        _criterion("collection", "Collecting evidence", ["tracker"], "Checks are aligned to the unit's goals."),
        _criterion("response", "Responding to evidence", ["adjustments"], "Instruction changes with the data."),
    ],
}

# (content, codes of the standard items it is aligned to)
PUBLISHED = [
    (CLOSE_READING, ["InTASC.4", "InTASC.8", "NBPTS.P2"]),
    (COLLABORATIVE_INQUIRY, ["PSEL.6", "PSEL.7", "InTASC.10", "NBPTS.P5"]),
    (RESPONSIVE_PRACTICE, ["InTASC.2", "PSEL.3", "NBPTS.P1"]),
]
UNDER_REVIEW = (DATA_INFORMED, ["InTASC.6", "ISTE.2.7"])
STACK_TITLE = "Instructional Leadership Pathway"

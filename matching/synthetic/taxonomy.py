"""Static vocabulary behind the synthetic marketplace.

Everything here is plain, immutable data so the generator in
`matching.synthetic` stays a pure function of its seed: the same taxonomy and
seed always produce the same rows. The vocabulary is real (real skills, real
cities with their IANA zones and currencies, salary levels in the right order
of magnitude) because the matching model is trained and judged on this data;
made-up tokens would make embeddings and skill overlap meaningless.

Skills are grouped per role family into clusters of skills that co-occur in
real profiles (a Django developer usually also knows PostgreSQL, rarely
Figma). A cluster may also name `related` skills owned by another family,
which is how "Python" shows up for data scientists without being listed twice
(skill names are unique case-insensitively, as the database demands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# --------------------------------------------------------------------------
# Enumerations mirrored from migrations/20261126050000_extensions_and_schemas.sql.
# Order matters for the ordinal ones (levels, sizes), as it does in Postgres.
# --------------------------------------------------------------------------

EXPERIENCE_LEVELS: tuple[str, ...] = ("junior", "mid", "senior", "lead", "principal")
REMOTE_PREFERENCES: tuple[str, ...] = ("onsite", "hybrid", "remote", "flexible")
REMOTE_POLICIES: tuple[str, ...] = ("onsite", "hybrid", "remote")
JOB_STATUSES: tuple[str, ...] = ("draft", "open", "closed")
COMPANY_SIZES: tuple[str, ...] = ("micro", "small", "medium", "large", "enterprise")
INDUSTRIES: tuple[str, ...] = (
    "software", "fintech", "finance", "healthcare", "biotech", "ecommerce", "retail",
    "media", "gaming", "education", "manufacturing", "energy", "logistics",
    "consulting", "government", "nonprofit",
)  # fmt: skip
WORK_STYLES: tuple[str, ...] = (
    "remote_first", "async", "office_centric", "flexible_hours",
    "collaborative", "autonomous", "structured", "fast_paced",
)  # fmt: skip

#: Typical professional years per level (inclusive bounds). Ranges overlap on
#: purpose: a lead with 9 years and a senior with 9 years both exist.
LEVEL_YEARS: tuple[tuple[float, float], ...] = (
    (0.0, 2.0),  # junior
    (2.0, 5.0),  # mid
    (5.0, 10.0),  # senior
    (8.0, 15.0),  # lead
    (12.0, 30.0),  # principal
)
#: How far a synthetic profile may stray outside its level's range.
LEVEL_YEARS_JITTER: float = 1.0

#: Readable phrases for enum values, used in descriptions and bios.
INDUSTRY_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "software": "software",
        "fintech": "fintech",
        "finance": "financial services",
        "healthcare": "healthcare",
        "biotech": "biotech",
        "ecommerce": "e-commerce",
        "retail": "retail",
        "media": "media",
        "gaming": "gaming",
        "education": "education",
        "manufacturing": "manufacturing",
        "energy": "energy",
        "logistics": "logistics",
        "consulting": "consulting",
        "government": "government",
        "nonprofit": "non-profit",
    }
)
COMPANY_SIZE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "micro": "a team of fewer than ten people",
        "small": "a small team of around 11-50 people",
        "medium": "a growing company of 51-250 people",
        "large": "an established company of 251-1,000 people",
        "enterprise": "a global organisation of more than 1,000 people",
    }
)
WORK_STYLE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "remote_first": "remote-first",
        "async": "asynchronous communication",
        "office_centric": "time together in the office",
        "flexible_hours": "flexible hours",
        "collaborative": "close collaboration",
        "autonomous": "autonomy and ownership",
        "structured": "clear structure and process",
        "fast_paced": "a fast pace",
    }
)


# --------------------------------------------------------------------------
# Role families and skills.
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkillCluster:
    """Skills that appear together on real profiles, plus the roles that use them.

    `roles` fill the `{role}` slot of a family's title templates, so titles
    follow the skills ("Backend Engineer" for the Python cluster, "iOS
    Engineer" for the mobile one) instead of being picked independently.
    `related` names skills owned by another cluster or family that still
    co-occur with this one; they are sampled with it at a lower weight.
    """

    key: str
    roles: tuple[str, ...]
    skills: tuple[str, ...]
    related: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleFamily:
    """One professional family; its slug is the skills.category of its skills.

    `titles` holds one tuple of templates per experience level (same order as
    EXPERIENCE_LEVELS); a template may contain `{role}`. `salary_usd` is a
    yearly gross base per level for a city with cost index 1.0.
    Fragment placeholders: bios and headlines use {title}, {s0}..{s3},
    {years}, {industry}; job fragments use {s0}..{s2}, {company}, {team},
    {industry}.
    """

    slug: str
    label: str
    team: str
    weight: float
    clusters: tuple[SkillCluster, ...]
    titles: tuple[tuple[str, ...], ...]
    headlines: tuple[str, ...]
    bio_fragments: tuple[str, ...]
    job_fragments: tuple[str, ...]
    industries: tuple[str, ...]
    salary_usd: tuple[int, int, int, int, int]
    neighbours: tuple[str, ...]

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(s for c in self.clusters for s in c.skills)


_TECH_TITLES: tuple[tuple[str, ...], ...] = (
    ("Junior {role}", "Associate {role}", "Graduate {role}"),
    ("{role}", "{role} II"),
    ("Senior {role}",),
    ("Lead {role}", "Staff {role}"),
    ("Principal {role}",),
)


def _titles(
    lead_extra: tuple[str, ...], principal_extra: tuple[str, ...]
) -> tuple[tuple[str, ...], ...]:
    """Technical title ladders differ only in their management titles."""
    return (
        _TECH_TITLES[0],
        _TECH_TITLES[1],
        _TECH_TITLES[2],
        _TECH_TITLES[3] + lead_extra,
        _TECH_TITLES[4] + principal_extra,
    )


#: Headline templates every family may use besides its own.
COMMON_HEADLINES: tuple[str, ...] = (
    "{title} · {s0}, {s1}",
    "{title} · {s0}, {s1}, {s2}",
    "{title} | {s0} & {s1}",
    "{title} with {years}+ years of {s0}",
)

FAMILIES: tuple[RoleFamily, ...] = (
    RoleFamily(
        slug="software",
        label="Software engineering",
        team="Engineering",
        weight=0.20,
        clusters=(
            SkillCluster(
                "backend",
                ("Backend Engineer", "Python Developer", "Software Engineer"),
                (
                    "Python",
                    "Django",
                    "FastAPI",
                    "Flask",
                    "Go",
                    "PostgreSQL",
                    "Redis",
                    "REST API Design",
                    "Celery",
                    "Rust",
                ),
                ("Docker", "Git", "Linux"),
            ),
            SkillCluster(
                "web",
                ("Frontend Engineer", "Full-Stack Engineer", "Web Developer"),
                (
                    "JavaScript",
                    "TypeScript",
                    "React",
                    "Node.js",
                    "Next.js",
                    "Vue.js",
                    "HTML",
                    "CSS",
                    "GraphQL",
                    "Angular",
                    "Tailwind CSS",
                ),
                ("Git", "Accessibility (WCAG)"),
            ),
            SkillCluster(
                "jvm",
                ("Java Engineer", "Software Engineer", ".NET Developer"),
                (
                    "Java",
                    "Spring Boot",
                    "Kotlin",
                    "Scala",
                    "C#",
                    "ASP.NET Core",
                    "Hibernate",
                    "Microsoft SQL Server",
                    "Maven",
                    "C++",
                ),
                ("Apache Kafka", "Git"),
            ),
            SkillCluster(
                "mobile",
                ("Mobile Engineer", "iOS Engineer", "Android Engineer"),
                (
                    "Swift",
                    "SwiftUI",
                    "Objective-C",
                    "Android SDK",
                    "Jetpack Compose",
                    "React Native",
                    "Flutter",
                    "Dart",
                    "Xcode",
                ),
                ("Kotlin", "Git"),
            ),
        ),
        titles=_titles(("Engineering Manager",), ("Head of Engineering",)),
        headlines=(
            "{title} building with {s0} and {s1}",
            "{title} · {s0} · {s1} · {s2}",
        ),
        bio_fragments=(
            "Most of my work is in {s0} and {s1}, shipping features end to end.",
            "I care about clean, well-tested code and fast feedback loops.",
            "I have built and operated production services with {s0} and {s2}.",
            "I enjoy pairing, code review and making other engineers faster.",
            "Recently I migrated a legacy codebase to {s1} without downtime.",
            "I like owning a problem from the first design doc to monitoring in production.",
            "Outside work I contribute to open-source {s0} libraries.",
        ),
        job_fragments=(
            "You will design, build and run services in {s0} and {s1}.",
            "You will own features end to end, from design docs to production monitoring.",
            "You will review code, mentor teammates and raise the bar for quality.",
            "Our stack is {s0}, {s1} and {s2}, deployed several times a day.",
            "You will work closely with product and design to ship customer-facing work.",
        ),
        industries=("software", "fintech", "ecommerce", "gaming", "media", "healthcare"),
        salary_usd=(85_000, 120_000, 160_000, 190_000, 230_000),
        neighbours=("devops", "data", "design"),
    ),
    RoleFamily(
        slug="data",
        label="Data and machine learning",
        team="Data",
        weight=0.10,
        clusters=(
            SkillCluster(
                "analytics",
                ("Data Analyst", "Analytics Engineer", "BI Analyst"),
                (
                    "SQL",
                    "Tableau",
                    "Power BI",
                    "Looker",
                    "dbt",
                    "Statistics",
                    "A/B Testing",
                    "Data Visualization",
                ),
                ("Microsoft Excel", "Python"),
            ),
            SkillCluster(
                "engineering",
                ("Data Engineer", "Big Data Engineer"),
                (
                    "Apache Spark",
                    "Apache Airflow",
                    "Snowflake",
                    "BigQuery",
                    "Databricks",
                    "Apache Kafka",
                    "ETL",
                    "Data Modeling",
                    "Amazon Redshift",
                ),
                ("Python", "Scala", "AWS"),
            ),
            SkillCluster(
                "ml",
                ("Data Scientist", "Machine Learning Engineer"),
                (
                    "Machine Learning",
                    "scikit-learn",
                    "PyTorch",
                    "TensorFlow",
                    "pandas",
                    "NumPy",
                    "Deep Learning",
                    "Natural Language Processing",
                    "Computer Vision",
                    "MLOps",
                    "R",
                    "Jupyter",
                ),
                ("Python", "Docker"),
            ),
        ),
        titles=_titles(("Data Science Manager", "Analytics Manager"), ("Head of Data",)),
        headlines=(
            "{title} turning data into decisions · {s0}, {s1}",
            "{title} · {s0} · {s1}",
        ),
        bio_fragments=(
            "I build models and pipelines with {s0} and {s1} that people actually use.",
            "I like framing fuzzy business questions as measurable experiments.",
            "My recent work: a {s0} pipeline processing billions of events a day.",
            "I care about data quality, lineage and honest metrics.",
            "I have taken {s2} models from notebook prototypes to production.",
            "I enjoy explaining results to non-technical stakeholders.",
        ),
        job_fragments=(
            "You will build reliable data pipelines and models with {s0} and {s1}.",
            "You will partner with product teams to define metrics and run experiments.",
            "You will take models from prototype to production and monitor them.",
            "Our data platform runs on {s0}, {s1} and {s2}.",
            "You will help {company} make better decisions with trustworthy data.",
        ),
        industries=(
            "software",
            "fintech",
            "finance",
            "ecommerce",
            "healthcare",
            "biotech",
            "media",
            "consulting",
        ),
        salary_usd=(80_000, 115_000, 150_000, 180_000, 220_000),
        neighbours=("software", "finance", "product"),
    ),
    RoleFamily(
        slug="devops",
        label="DevOps and infrastructure",
        team="Platform",
        weight=0.06,
        clusters=(
            SkillCluster(
                "cloud",
                ("Cloud Engineer", "Cloud Architect"),
                (
                    "AWS",
                    "Google Cloud Platform",
                    "Microsoft Azure",
                    "Terraform",
                    "AWS CloudFormation",
                    "Pulumi",
                    "Serverless",
                ),
                ("Python", "Cloud Security"),
            ),
            SkillCluster(
                "containers",
                ("Platform Engineer", "Site Reliability Engineer"),
                (
                    "Docker",
                    "Kubernetes",
                    "Helm",
                    "Argo CD",
                    "Istio",
                    "Prometheus",
                    "Grafana",
                    "OpenTelemetry",
                ),
                ("Go",),
            ),
            SkillCluster(
                "automation",
                ("DevOps Engineer", "Build and Release Engineer"),
                (
                    "Linux",
                    "Bash",
                    "Ansible",
                    "Jenkins",
                    "GitHub Actions",
                    "GitLab CI",
                    "Git",
                    "Nginx",
                ),
                ("Python",),
            ),
        ),
        titles=_titles(("Infrastructure Manager",), ("Head of Platform",)),
        headlines=("{title} · {s0}, {s1} and a lot of YAML", "{title} keeping {s0} boring"),
        bio_fragments=(
            "I build paved roads so product teams can ship safely with {s0} and {s1}.",
            "I have run {s0} clusters serving millions of requests per minute.",
            "I care about observability, sane on-call rotations and blameless postmortems.",
            "I automate everything I have to do twice, usually with {s2}.",
            "I reduced our cloud bill by a third without giving up reliability.",
        ),
        job_fragments=(
            "You will run and evolve our {s0} and {s1} infrastructure.",
            "You will improve CI/CD so every team can deploy many times a day.",
            "You will define SLOs, take part in on-call and lead incident reviews.",
            "Everything is code here: {s0}, {s1} and {s2}.",
        ),
        industries=("software", "fintech", "ecommerce", "gaming", "media", "energy"),
        salary_usd=(80_000, 115_000, 150_000, 180_000, 215_000),
        neighbours=("software", "security"),
    ),
    RoleFamily(
        slug="security",
        label="Information security",
        team="Security",
        weight=0.04,
        clusters=(
            SkillCluster(
                "appsec",
                ("Application Security Engineer", "Security Engineer"),
                (
                    "Application Security",
                    "OWASP",
                    "Penetration Testing",
                    "Threat Modeling",
                    "Burp Suite",
                    "Secure Code Review",
                    "Static Application Security Testing",
                ),
                ("Python", "JavaScript"),
            ),
            SkillCluster(
                "secops",
                ("Security Analyst", "Security Operations Engineer"),
                (
                    "SIEM",
                    "Splunk",
                    "Incident Response",
                    "Security Operations",
                    "Vulnerability Management",
                    "Digital Forensics",
                    "Wireshark",
                    "Malware Analysis",
                ),
                ("Linux",),
            ),
            SkillCluster(
                "grc",
                ("GRC Analyst", "Cloud Security Engineer"),
                (
                    "Identity and Access Management",
                    "Zero Trust",
                    "ISO 27001",
                    "SOC 2",
                    "NIST Cybersecurity Framework",
                    "Cloud Security",
                    "Network Security",
                ),
                ("AWS", "Regulatory Compliance"),
            ),
        ),
        titles=_titles(("Security Manager",), ("Chief Information Security Officer",)),
        headlines=("{title} · {s0} · {s1}", "{title} helping teams ship securely"),
        bio_fragments=(
            "I help engineering teams ship securely without slowing them down.",
            "I have led {s0} programmes from the first audit to certification.",
            "Hands-on with {s0} and {s1}; I read logs for fun.",
            "I have run incident response for breaches big and small.",
            "I believe security is a product: usable controls beat clever ones.",
        ),
        job_fragments=(
            "You will own {s0} and {s1} across the company.",
            "You will threat-model new features with engineering teams.",
            "You will lead incident response and improve our detection coverage.",
            "You will help {company} keep customer data safe as we grow.",
        ),
        industries=("software", "fintech", "finance", "government", "healthcare", "consulting"),
        salary_usd=(80_000, 115_000, 150_000, 180_000, 220_000),
        neighbours=("devops", "software", "legal"),
    ),
    RoleFamily(
        slug="design",
        label="Design",
        team="Design",
        weight=0.06,
        clusters=(
            SkillCluster(
                "product_design",
                ("Product Designer", "UI Designer", "Interaction Designer"),
                (
                    "Figma",
                    "Sketch",
                    "Prototyping",
                    "Interaction Design",
                    "Wireframing",
                    "Design Systems",
                    "UI Design",
                    "Accessibility (WCAG)",
                ),
                ("HTML", "CSS"),
            ),
            SkillCluster(
                "research",
                ("UX Researcher", "UX Designer"),
                (
                    "User Research",
                    "Usability Testing",
                    "UX Writing",
                    "Information Architecture",
                    "Journey Mapping",
                    "Design Thinking",
                ),
                ("Product Discovery",),
            ),
            SkillCluster(
                "visual",
                ("Visual Designer", "Brand Designer", "Graphic Designer"),
                (
                    "Adobe Photoshop",
                    "Adobe Illustrator",
                    "Adobe InDesign",
                    "Brand Identity",
                    "Typography",
                    "Motion Design",
                    "Adobe After Effects",
                    "Illustration",
                ),
                ("Brand Strategy",),
            ),
        ),
        titles=(
            ("Junior {role}", "Associate {role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Design Manager"),
            ("Principal {role}", "Head of Design"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} crafting calm, usable products"),
        bio_fragments=(
            "I design calm, accessible products, mostly in {s0}.",
            "I start with research and end with pixel-perfect {s1} files.",
            "I have built a design system from scratch used by dozens of engineers.",
            "I love turning messy workflows into simple interfaces.",
            "My portfolio spans {industry} products on web and mobile.",
        ),
        job_fragments=(
            "You will shape the experience of our products from research to polished UI.",
            "You will work in {s0} and contribute to our design system.",
            "You will run usability tests and turn insights into decisions.",
            "You will partner with engineers to ship designs that match the mocks.",
        ),
        industries=("software", "ecommerce", "media", "gaming", "retail", "consulting"),
        salary_usd=(65_000, 90_000, 120_000, 145_000, 175_000),
        neighbours=("product", "marketing", "software"),
    ),
    RoleFamily(
        slug="product",
        label="Product management",
        team="Product",
        weight=0.05,
        clusters=(
            SkillCluster(
                "strategy",
                ("Product Manager", "Growth Product Manager"),
                (
                    "Product Strategy",
                    "Roadmapping",
                    "Product Discovery",
                    "User Stories",
                    "Backlog Prioritization",
                    "OKRs",
                    "Stakeholder Management",
                ),
                ("User Research", "Go-to-Market Strategy"),
            ),
            SkillCluster(
                "delivery",
                ("Product Owner", "Product Manager"),
                (
                    "Agile",
                    "Scrum",
                    "Kanban",
                    "Jira",
                    "Confluence",
                    "Product Analytics",
                    "Amplitude",
                    "Mixpanel",
                ),
                ("A/B Testing", "SQL"),
            ),
            SkillCluster(
                "technical",
                ("Technical Product Manager", "Platform Product Manager"),
                (
                    "API Products",
                    "Platform Strategy",
                    "Pricing Strategy",
                    "Technical Requirements",
                    "Experimentation",
                ),
                ("SQL", "REST API Design"),
            ),
        ),
        titles=(
            ("Associate {role}", "Junior {role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Group Product Manager"),
            ("Principal {role}", "Director of Product", "Head of Product"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} shipping outcomes, not output"),
        bio_fragments=(
            "I find the problems worth solving and rally teams around them.",
            "I have launched {industry} products from zero to product-market fit.",
            "I lean on {s0} and {s1} to keep roadmaps honest.",
            "I write crisp specs and then get out of the engineers' way.",
            "I measure success in customer outcomes, not shipped tickets.",
        ),
        job_fragments=(
            "You will own the roadmap for a product area and its outcomes.",
            "You will talk to customers every week and turn insights into {s0}.",
            "You will work with design and engineering in a small, empowered team.",
            "You will define success metrics and track them with {s1}.",
        ),
        industries=("software", "fintech", "ecommerce", "healthcare", "education", "media"),
        salary_usd=(80_000, 115_000, 150_000, 180_000, 220_000),
        neighbours=("design", "data", "software"),
    ),
    RoleFamily(
        slug="marketing",
        label="Marketing",
        team="Marketing",
        weight=0.07,
        clusters=(
            SkillCluster(
                "performance",
                ("Performance Marketing Manager", "Growth Marketer", "Digital Marketer"),
                (
                    "SEO",
                    "SEM",
                    "Google Ads",
                    "Meta Ads",
                    "Google Analytics",
                    "Marketing Automation",
                    "HubSpot",
                    "Email Marketing",
                    "Conversion Rate Optimization",
                ),
                ("A/B Testing",),
            ),
            SkillCluster(
                "content",
                ("Content Marketer", "Brand Manager", "Communications Manager"),
                (
                    "Content Marketing",
                    "Copywriting",
                    "Social Media Marketing",
                    "Brand Strategy",
                    "Public Relations",
                    "Content Strategy",
                    "Video Production",
                ),
                ("Adobe Photoshop",),
            ),
            SkillCluster(
                "product_marketing",
                ("Product Marketing Manager", "Marketing Manager"),
                (
                    "Product Marketing",
                    "Go-to-Market Strategy",
                    "Market Research",
                    "Competitive Analysis",
                    "Messaging and Positioning",
                    "Marketing Analytics",
                ),
                ("Salesforce",),
            ),
        ),
        titles=(
            ("Junior {role}", "{role} Associate"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Head of Growth"),
            ("Marketing Director", "VP Marketing", "Principal {role}"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} who loves a good funnel"),
        bio_fragments=(
            "I grow audiences and pipeline with {s0} and {s1}.",
            "I have scaled paid acquisition while cutting cost per lead.",
            "I write copy people read and run campaigns people remember.",
            "I launched {industry} products in new markets from scratch.",
            "I test everything; my favourite tool is {s2}.",
        ),
        job_fragments=(
            "You will plan and run campaigns across {s0} and {s1}.",
            "You will own messaging and launches for our {industry} products.",
            "You will report on pipeline and spend with clear, honest metrics.",
            "You will work with sales to turn attention into revenue for {company}.",
        ),
        industries=("ecommerce", "retail", "media", "software", "consulting", "nonprofit"),
        salary_usd=(55_000, 75_000, 100_000, 130_000, 165_000),
        neighbours=("sales", "design", "data"),
    ),
    RoleFamily(
        slug="sales",
        label="Sales",
        team="Sales",
        weight=0.08,
        clusters=(
            SkillCluster(
                "closing",
                ("Account Executive", "Enterprise Account Executive"),
                (
                    "Salesforce",
                    "B2B Sales",
                    "Solution Selling",
                    "Negotiation",
                    "Pipeline Management",
                    "Sales Forecasting",
                    "Enterprise Sales",
                    "MEDDIC",
                ),
                ("HubSpot",),
            ),
            SkillCluster(
                "development",
                ("Sales Development Representative", "Business Development Representative"),
                (
                    "Lead Generation",
                    "Cold Calling",
                    "Outbound Prospecting",
                    "LinkedIn Sales Navigator",
                    "Outreach.io",
                    "Sales Development",
                ),
                ("HubSpot", "Email Marketing"),
            ),
            SkillCluster(
                "partnerships",
                ("Partnerships Manager", "Business Development Manager", "Key Account Manager"),
                (
                    "Partnerships",
                    "Channel Sales",
                    "Business Development",
                    "Key Account Management",
                    "Account Management",
                    "Retail Sales",
                ),
                ("Contract Negotiation",),
            ),
        ),
        titles=(
            ("Junior {role}", "{role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Sales Team Lead", "Sales Manager", "Lead {role}"),
            ("Head of Sales", "VP Sales", "Sales Director"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} consistently over quota"),
        bio_fragments=(
            "I have beaten quota for several years running.",
            "I sell complex {industry} solutions to senior buyers.",
            "My toolkit: {s0}, {s1} and a lot of curiosity about customers.",
            "I build pipeline from cold outreach to signed contract.",
            "I keep CRM data clean because forecasts depend on it.",
        ),
        job_fragments=(
            "You will own a territory and a number, from first call to signature.",
            "You will build pipeline with {s0} and {s1}.",
            "You will work with marketing and customer success on a full-cycle motion.",
            "You will help {company} win new logos in the {industry} market.",
        ),
        industries=("software", "fintech", "manufacturing", "logistics", "retail", "energy"),
        salary_usd=(55_000, 80_000, 110_000, 140_000, 180_000),
        neighbours=("marketing", "customer_support"),
    ),
    RoleFamily(
        slug="finance",
        label="Finance and accounting",
        team="Finance",
        weight=0.07,
        clusters=(
            SkillCluster(
                "fpa",
                ("Financial Analyst", "FP&A Analyst"),
                (
                    "Financial Modeling",
                    "Budgeting",
                    "Financial Forecasting",
                    "Financial Planning and Analysis",
                    "Microsoft Excel",
                    "Variance Analysis",
                    "Anaplan",
                ),
                ("SQL", "Power BI"),
            ),
            SkillCluster(
                "accounting",
                ("Accountant", "Financial Accountant"),
                (
                    "Accounting",
                    "GAAP",
                    "IFRS",
                    "Accounts Payable",
                    "Accounts Receivable",
                    "Month-End Close",
                    "NetSuite",
                    "QuickBooks",
                    "Auditing",
                ),
                ("SAP ERP",),
            ),
            SkillCluster(
                "corporate",
                ("Corporate Finance Analyst", "Treasury Analyst", "Investment Analyst"),
                (
                    "Tax Compliance",
                    "Treasury Management",
                    "Valuation",
                    "Corporate Finance",
                    "Investment Analysis",
                    "Bloomberg Terminal",
                ),
                ("Mergers and Acquisitions",),
            ),
        ),
        titles=(
            ("Junior {role}", "Graduate {role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Finance Manager", "Lead {role}", "Controller"),
            ("Finance Director", "Head of Finance", "CFO"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} · {s0} · {s1} · {s2}"),
        bio_fragments=(
            "I turn numbers into decisions leadership can act on.",
            "I have built {s0} models that underpin board-level plans.",
            "I run a tight month-end close and sleep well during audits.",
            "Fluent in {s0} and {s1}; comfortable presenting to executives.",
            "I have supported fundraising and due diligence in {industry}.",
        ),
        job_fragments=(
            "You will own {s0} and {s1} for a growing business unit.",
            "You will partner with budget owners and challenge assumptions.",
            "You will improve reporting so leadership sees the numbers that matter.",
            "You will keep {company}'s books audit-ready.",
        ),
        industries=("finance", "fintech", "consulting", "manufacturing", "energy", "government"),
        salary_usd=(60_000, 85_000, 115_000, 145_000, 190_000),
        neighbours=("data", "operations", "legal"),
    ),
    RoleFamily(
        slug="healthcare",
        label="Healthcare and life sciences",
        team="Clinical",
        weight=0.06,
        clusters=(
            SkillCluster(
                "nursing",
                ("Registered Nurse", "Clinical Nurse"),
                (
                    "Patient Care",
                    "Electronic Health Records",
                    "Epic Systems",
                    "Basic Life Support",
                    "Advanced Cardiac Life Support",
                    "Medication Administration",
                    "Triage",
                    "Wound Care",
                ),
                (),
            ),
            SkillCluster(
                "research",
                ("Clinical Research Associate", "Clinical Data Manager"),
                (
                    "Clinical Trials",
                    "Good Clinical Practice",
                    "Clinical Data Management",
                    "Pharmacovigilance",
                    "Biostatistics",
                    "CDISC Standards",
                ),
                ("Statistics", "Regulatory Compliance"),
            ),
            SkillCluster(
                "administration",
                ("Healthcare Administrator", "Medical Coder", "Care Coordinator"),
                (
                    "Medical Coding",
                    "ICD-10",
                    "Medical Billing",
                    "HIPAA Compliance",
                    "Healthcare Administration",
                    "Care Coordination",
                    "Telehealth",
                ),
                ("Electronic Health Records",),
            ),
        ),
        titles=(
            ("Graduate {role}", "Junior {role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Clinical Team Lead"),
            ("Director of Clinical Operations", "Principal {role}"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} putting patients first"),
        bio_fragments=(
            "Patients come first; paperwork done right comes a close second.",
            "Experienced with {s0} and {s1} in busy clinical settings.",
            "I have worked across hospitals, clinics and {industry} companies.",
            "I stay calm under pressure and communicate clearly with families.",
            "I helped roll out {s2} across several departments.",
        ),
        job_fragments=(
            "You will deliver safe, compassionate care as part of a multidisciplinary team.",
            "You will work with {s0} and {s1} every day.",
            "You will keep documentation accurate and compliant.",
            "You will help {company} improve outcomes for patients.",
        ),
        industries=("healthcare", "biotech", "government", "nonprofit"),
        salary_usd=(60_000, 80_000, 105_000, 130_000, 170_000),
        neighbours=("data", "operations", "education"),
    ),
    RoleFamily(
        slug="hr",
        label="People and recruiting",
        team="People",
        weight=0.04,
        clusters=(
            SkillCluster(
                "recruiting",
                ("Recruiter", "Talent Acquisition Partner", "Technical Recruiter"),
                (
                    "Technical Recruiting",
                    "Talent Acquisition",
                    "Candidate Sourcing",
                    "Applicant Tracking Systems",
                    "Structured Interviewing",
                    "Employer Branding",
                    "Greenhouse",
                ),
                ("LinkedIn Sales Navigator",),
            ),
            SkillCluster(
                "people_ops",
                ("HR Business Partner", "People Operations Specialist", "HR Generalist"),
                (
                    "Employee Relations",
                    "Performance Management",
                    "HR Policy",
                    "Employee Onboarding",
                    "HRIS",
                    "Workday",
                    "Compensation and Benefits",
                    "Payroll",
                ),
                ("Employment Law",),
            ),
            SkillCluster(
                "development",
                ("Learning and Development Specialist", "Organizational Development Partner"),
                (
                    "Learning and Development",
                    "Organizational Development",
                    "Coaching",
                    "DEI Programs",
                    "Employee Engagement",
                    "People Analytics",
                ),
                ("Change Management", "Facilitation"),
            ),
        ),
        titles=(
            ("Junior {role}", "{role} Associate"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "People Manager"),
            ("Head of People", "HR Director", "Chief People Officer"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} building teams people love"),
        bio_fragments=(
            "I help companies hire well and keep the people they hired.",
            "I have scaled teams from 20 to 300 people in {industry}.",
            "Comfortable with {s0} and {s1}, and with hard conversations.",
            "I design processes that are fair, fast and humane.",
            "I use data to find where candidates and employees drop off.",
        ),
        job_fragments=(
            "You will partner with managers on hiring, growth and performance.",
            "You will own {s0} and {s1} end to end.",
            "You will make {company} a place where people do their best work.",
            "You will improve our processes with feedback and data.",
        ),
        industries=("consulting", "software", "manufacturing", "retail", "government", "nonprofit"),
        salary_usd=(50_000, 70_000, 95_000, 120_000, 155_000),
        neighbours=("legal", "operations", "education"),
    ),
    RoleFamily(
        slug="legal",
        label="Legal and compliance",
        team="Legal",
        weight=0.03,
        clusters=(
            SkillCluster(
                "commercial",
                ("Legal Counsel", "Corporate Counsel", "Commercial Lawyer"),
                (
                    "Contract Drafting",
                    "Contract Negotiation",
                    "Commercial Law",
                    "Corporate Law",
                    "Mergers and Acquisitions",
                    "Due Diligence",
                    "Legal Research",
                ),
                (),
            ),
            SkillCluster(
                "compliance",
                ("Compliance Officer", "Privacy Counsel", "Compliance Analyst"),
                (
                    "GDPR",
                    "Data Privacy",
                    "Regulatory Compliance",
                    "Anti-Money Laundering",
                    "Know Your Customer",
                    "Compliance Monitoring",
                ),
                ("SOC 2", "ISO 27001"),
            ),
            SkillCluster(
                "disputes",
                ("Litigation Associate", "IP Counsel", "Employment Lawyer"),
                (
                    "Intellectual Property",
                    "Patent Law",
                    "Litigation",
                    "Employment Law",
                    "Legal Writing",
                    "eDiscovery",
                    "Trademark Law",
                ),
                (),
            ),
        ),
        titles=(
            ("Junior {role}", "Trainee {role}", "Paralegal"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Legal Manager"),
            ("General Counsel", "Head of Legal", "Chief Compliance Officer"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} who says yes, safely"),
        bio_fragments=(
            "I give practical legal advice that helps the business move.",
            "Experienced in {s0} and {s1} across several jurisdictions.",
            "I have negotiated hundreds of commercial agreements in {industry}.",
            "I turn regulation into clear, workable processes.",
            "I write short memos and long contracts, each when it is needed.",
        ),
        job_fragments=(
            "You will advise teams on {s0} and {s1}.",
            "You will draft and negotiate agreements with customers and suppliers.",
            "You will keep {company} compliant as regulation evolves.",
            "You will build templates and playbooks that scale the legal team.",
        ),
        industries=("consulting", "finance", "fintech", "government", "biotech", "energy"),
        salary_usd=(70_000, 100_000, 140_000, 175_000, 230_000),
        neighbours=("finance", "hr"),
    ),
    RoleFamily(
        slug="operations",
        label="Operations and supply chain",
        team="Operations",
        weight=0.06,
        clusters=(
            SkillCluster(
                "supply_chain",
                ("Supply Chain Analyst", "Logistics Coordinator", "Procurement Specialist"),
                (
                    "Supply Chain Management",
                    "Logistics",
                    "Inventory Management",
                    "Procurement",
                    "Demand Planning",
                    "SAP ERP",
                    "Warehouse Management",
                    "Vendor Management",
                ),
                ("Microsoft Excel",),
            ),
            SkillCluster(
                "process",
                ("Operations Manager", "Project Manager", "Process Improvement Specialist"),
                (
                    "Lean Six Sigma",
                    "Process Improvement",
                    "Project Management",
                    "Change Management",
                    "Business Process Modeling",
                    "Quality Management",
                ),
                ("Agile", "Jira"),
            ),
            SkillCluster(
                "business_ops",
                ("Business Operations Analyst", "Facilities Manager", "Operations Analyst"),
                (
                    "Business Operations",
                    "Risk Management",
                    "Health and Safety",
                    "Facilities Management",
                    "KPI Reporting",
                ),
                ("SQL", "Microsoft Excel"),
            ),
        ),
        titles=(
            ("Junior {role}", "{role} Associate"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Operations Manager"),
            ("Head of Operations", "Director of Operations", "COO"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} making things run smoothly"),
        bio_fragments=(
            "I make complex operations run smoothly and predictably.",
            "I have cut lead times and costs with {s0} and {s1}.",
            "I like spreadsheets, shop floors and the people on them.",
            "Experienced in {industry} operations across several countries.",
            "I turn recurring fires into documented, measured processes.",
        ),
        job_fragments=(
            "You will own {s0} and {s1} for our core operations.",
            "You will find bottlenecks and remove them with data.",
            "You will work with suppliers, finance and local teams.",
            "You will help {company} scale without losing quality.",
        ),
        industries=("logistics", "manufacturing", "retail", "ecommerce", "energy"),
        salary_usd=(50_000, 70_000, 95_000, 120_000, 155_000),
        neighbours=("finance", "data", "customer_support"),
    ),
    RoleFamily(
        slug="customer_support",
        label="Customer support and success",
        team="Customer Experience",
        weight=0.05,
        clusters=(
            SkillCluster(
                "frontline",
                ("Customer Support Specialist", "Customer Service Representative"),
                (
                    "Customer Service",
                    "Zendesk",
                    "Intercom",
                    "Live Chat Support",
                    "Troubleshooting",
                    "Conflict Resolution",
                    "Freshdesk",
                ),
                (),
            ),
            SkillCluster(
                "success",
                ("Customer Success Manager", "Onboarding Specialist"),
                (
                    "Customer Success",
                    "Customer Onboarding",
                    "Churn Reduction",
                    "Net Promoter Score",
                    "Gainsight",
                    "Customer Retention",
                ),
                ("Account Management", "Salesforce"),
            ),
            SkillCluster(
                "technical",
                ("Technical Support Engineer", "Support Engineer"),
                (
                    "Technical Support",
                    "Knowledge Base Management",
                    "Incident Escalation",
                    "SLA Management",
                    "Root Cause Analysis",
                ),
                ("SQL", "Linux", "REST API Design"),
            ),
        ),
        titles=(
            ("Junior {role}", "{role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Support Team Lead", "Lead {role}", "Customer Success Lead"),
            ("Head of Customer Experience", "Director of Support"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} turning tickets into fans"),
        bio_fragments=(
            "I turn frustrated customers into loyal ones.",
            "I keep response times low and satisfaction high with {s0}.",
            "I have onboarded hundreds of {industry} customers.",
            "I write help-centre articles that actually reduce tickets.",
            "I work closely with product to fix problems at the root.",
        ),
        job_fragments=(
            "You will help customers succeed through {s0} and {s1}.",
            "You will handle escalations calmly and close the loop with product.",
            "You will improve our help centre and internal playbooks.",
            "You will be the voice of {company}'s customers inside the company.",
        ),
        industries=("software", "ecommerce", "fintech", "retail", "gaming", "logistics"),
        salary_usd=(40_000, 52_000, 65_000, 80_000, 100_000),
        neighbours=("sales", "operations"),
    ),
    RoleFamily(
        slug="education",
        label="Education and training",
        team="Learning",
        weight=0.03,
        clusters=(
            SkillCluster(
                "teaching",
                ("Teacher", "Mathematics Teacher", "Science Teacher"),
                (
                    "Lesson Planning",
                    "Classroom Management",
                    "Curriculum Development",
                    "Differentiated Instruction",
                    "Student Assessment",
                    "Special Education",
                    "STEM Education",
                ),
                (),
            ),
            SkillCluster(
                "instructional",
                ("Instructional Designer", "E-Learning Developer"),
                (
                    "Instructional Design",
                    "E-Learning Development",
                    "Articulate Storyline",
                    "Learning Management Systems",
                    "Moodle",
                    "Canvas LMS",
                    "Educational Technology",
                ),
                ("Learning and Development",),
            ),
            SkillCluster(
                "training",
                ("Corporate Trainer", "Language Teacher", "Tutor"),
                (
                    "Corporate Training",
                    "Public Speaking",
                    "TEFL",
                    "Tutoring",
                    "Facilitation",
                    "Mentoring",
                ),
                ("Coaching",),
            ),
        ),
        titles=(
            ("Junior {role}", "Assistant {role}", "Trainee {role}"),
            ("{role}",),
            ("Senior {role}",),
            ("Lead {role}", "Head of Department"),
            ("Director of Learning", "Head of Education", "Principal {role}"),
        ),
        headlines=("{title} · {s0}, {s1}", "{title} who makes learning stick"),
        bio_fragments=(
            "I design learning that sticks, for classrooms and companies alike.",
            "Experienced with {s0} and {s1} for learners of all ages.",
            "I have built courses taken by thousands of learners.",
            "I measure learning by what people can do afterwards.",
            "I bring {industry} experience to how I teach.",
        ),
        job_fragments=(
            "You will design and deliver engaging learning experiences.",
            "You will use {s0} and {s1} to reach learners wherever they are.",
            "You will assess progress and adapt materials to each group.",
            "You will help {company} grow the skills of its learners.",
        ),
        industries=("education", "nonprofit", "government", "software"),
        salary_usd=(45_000, 58_000, 72_000, 88_000, 110_000),
        neighbours=("design", "hr", "healthcare"),
    ),
)

FAMILY_BY_SLUG: Mapping[str, RoleFamily] = MappingProxyType({f.slug: f for f in FAMILIES})

#: Families every kind of company hires for, whatever its industry.
UNIVERSAL_FAMILIES: tuple[str, ...] = (
    "sales", "marketing", "hr", "finance", "operations", "customer_support", "product",
    "design",
)  # fmt: skip

# Sentences wrapped around a family's own fragments in a bio. Placeholders:
# {title}, {article} ("a"/"an" for the title), {years_phrase},
# {years_phrase_cap}, {industry}, {place}.
BIO_OPENERS: tuple[str, ...] = (
    "{title} with {years_phrase} of experience, most recently in {industry}.",
    "{title} based in {place} with {years_phrase} in the field.",
    "I work as {article} {title} and have {years_phrase} of professional experience.",
    "{years_phrase_cap} into my career, currently working as {article} {title}.",
)
BIO_CLOSERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "onsite": (
            "I do my best work on-site, side by side with the team.",
            "Looking for an on-site role close to {place}.",
        ),
        "hybrid": (
            "I prefer a hybrid setup with a couple of office days a week.",
            "Hybrid suits me best: focus time at home, collaboration in the office.",
        ),
        "remote": (
            "I work fully remote and am comfortable across time zones.",
            "Looking for a remote-first team that writes things down.",
        ),
        "flexible": (
            "Open to on-site, hybrid or remote roles.",
            "Flexible on where I work; the team and the problem matter more.",
        ),
    }
)


# --------------------------------------------------------------------------
# Domain and team wording.
#
# The embedded texts of talents and jobs both contain the skill list, so for
# the text similarity to add anything beyond skill overlap the prose has to
# carry what skills do not: the domain (industry) a person wants to work in
# or comes from, and the kind of team. Talents and jobs draw from the same
# phrases, so a fintech backend engineer and a fintech backend posting share
# wording that a gaming backend posting does not.
# --------------------------------------------------------------------------

#: What the work is about in each industry, as noun phrases that read after
#: "working on" / "shape". Three per industry; any count >= 1 works.
INDUSTRY_DOMAINS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "software": (
            "SaaS products for business customers",
            "developer tools and cloud software",
            "B2B software platforms",
        ),
        "fintech": (
            "payments and digital banking",
            "lending, cards and money transfers",
            "financial apps used by millions of customers",
        ),
        "finance": (
            "banking, investment and insurance services",
            "asset management and trading",
            "retail and corporate banking",
        ),
        "healthcare": (
            "patient care and clinical services",
            "hospitals, clinics and digital health",
            "health records and care delivery",
        ),
        "biotech": (
            "drug discovery and clinical trials",
            "life-science research and diagnostics",
            "pharmaceutical development",
        ),
        "ecommerce": (
            "online marketplaces and checkout",
            "online shopping, catalogues and delivery",
            "direct-to-consumer online stores",
        ),
        "retail": (
            "stores, merchandising and shoppers",
            "retail chains and in-store experience",
            "consumer brands and shops",
        ),
        "media": (
            "news, streaming and publishing",
            "audiences, content and advertising",
            "digital media and video",
        ),
        "gaming": (
            "video games and player communities",
            "mobile and console games",
            "live game services for players",
        ),
        "education": (
            "schools, learners and teachers",
            "online learning and edtech",
            "classrooms and courses",
        ),
        "manufacturing": (
            "factories and industrial production",
            "industrial equipment and plants",
            "production lines and quality control",
        ),
        "energy": (
            "renewable energy and power grids",
            "utilities, solar and wind",
            "the energy transition and electricity markets",
        ),
        "logistics": (
            "shipping, freight and warehouses",
            "supply chains and last-mile delivery",
            "fleets, routing and fulfilment",
        ),
        "consulting": (
            "client projects and advisory work",
            "consulting engagements for large clients",
            "professional services for many clients",
        ),
        "government": (
            "public services for citizens",
            "the public sector and civic services",
            "government agencies and public policy",
        ),
        "nonprofit": (
            "charities and social impact",
            "mission-driven, donor-funded programmes",
            "community and charity programmes",
        ),
    }
)

#: Kind of team per role family and skill cluster (same keys as FAMILIES and
#: their clusters), as noun phrases that read in "a {focus} team" and
#: "{focus} work". Titles follow the cluster, so these do too.
TEAM_FOCUS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "software": MappingProxyType(
            {
                "backend": ("backend services", "API and platform", "core backend"),
                "web": ("web product", "frontend", "full-stack product"),
                "jvm": ("core platform", "enterprise backend", "services and integrations"),
                "mobile": ("mobile app", "iOS and Android", "mobile product"),
            }
        ),
        "data": MappingProxyType(
            {
                "analytics": ("growth analytics", "product analytics", "business intelligence"),
                "engineering": ("data platform", "data engineering", "data infrastructure"),
                "ml": ("machine learning", "applied science", "recommendations and ML"),
            }
        ),
        "devops": MappingProxyType(
            {
                "cloud": ("cloud infrastructure", "cloud platform"),
                "containers": ("platform", "site reliability", "infrastructure platform"),
                "automation": ("developer productivity", "build and release", "DevOps"),
            }
        ),
        "security": MappingProxyType(
            {
                "appsec": ("application security", "product security"),
                "secops": ("security operations", "detection and response"),
                "grc": ("governance, risk and compliance", "security compliance"),
            }
        ),
        "design": MappingProxyType(
            {
                "product_design": ("product design", "design systems"),
                "research": ("user research", "UX research"),
                "visual": ("brand and visual design", "creative studio"),
            }
        ),
        "product": MappingProxyType(
            {
                "strategy": ("growth product", "product strategy", "consumer product"),
                "delivery": ("agile delivery", "product delivery"),
                "technical": ("platform product", "API product", "technical product"),
            }
        ),
        "marketing": MappingProxyType(
            {
                "performance": ("growth marketing", "performance marketing", "acquisition"),
                "content": ("content and brand", "communications", "brand marketing"),
                "product_marketing": ("product marketing", "go-to-market"),
            }
        ),
        "sales": MappingProxyType(
            {
                "closing": ("enterprise sales", "new business", "strategic accounts"),
                "development": ("sales development", "outbound sales", "pipeline generation"),
                "partnerships": ("partnerships", "channel and alliances", "key accounts"),
            }
        ),
        "finance": MappingProxyType(
            {
                "fpa": ("financial planning and analysis", "business finance", "planning"),
                "accounting": ("accounting", "financial reporting", "controllership"),
                "corporate": ("corporate finance", "treasury", "investments"),
            }
        ),
        "healthcare": MappingProxyType(
            {
                "nursing": ("nursing", "patient care", "ward nursing"),
                "research": ("clinical research", "clinical trials", "clinical data"),
                "administration": ("health administration", "revenue cycle", "care coordination"),
            }
        ),
        "hr": MappingProxyType(
            {
                "recruiting": ("talent acquisition", "recruiting", "technical recruiting"),
                "people_ops": ("people operations", "people partnering", "employee relations"),
                "development": ("learning and development", "organisational development"),
            }
        ),
        "legal": MappingProxyType(
            {
                "commercial": ("commercial legal", "in-house legal", "corporate legal"),
                "compliance": ("compliance", "privacy and compliance", "regulatory"),
                "disputes": ("litigation", "intellectual property", "employment law"),
            }
        ),
        "operations": MappingProxyType(
            {
                "supply_chain": ("supply chain", "procurement", "logistics operations"),
                "process": ("operational excellence", "programme management", "transformation"),
                "business_ops": ("business operations", "workplace and facilities", "risk"),
            }
        ),
        "customer_support": MappingProxyType(
            {
                "frontline": ("customer support", "customer care", "support desk"),
                "success": ("customer success", "onboarding", "account management"),
                "technical": ("technical support", "support engineering", "escalations"),
            }
        ),
        "education": MappingProxyType(
            {
                "teaching": ("teaching", "classroom", "STEM teaching"),
                "instructional": ("learning design", "e-learning", "curriculum"),
                "training": ("training", "corporate learning", "tutoring"),
            }
        ),
    }
)

# The domain sentence of a bio, right after its opener so that it survives
# the embedding's cut. Placeholders: {industries} (the industries as a list,
# "fintech and healthcare"), {domain} (an INDUSTRY_DOMAINS phrase of the first
# one), {focus} (a TEAM_FOCUS phrase), {a_focus} ("a"/"an" + focus).
#: For talents with preferred industries: where they want to work.
BIO_DOMAIN_WANTED: tuple[str, ...] = (
    "I want to join {a_focus} team in {industries}, ideally working on {domain}.",
    "Next I am looking for {focus} work in {industries}, especially {domain}.",
    "I am most interested in {industries}: {domain}, as part of {a_focus} team.",
    "The domain matters to me: {industries}, and {focus} work on {domain} in particular.",
)
#: For talents without preferences: where they have worked (one industry).
BIO_DOMAIN_PAST: tuple[str, ...] = (
    "My background is in {industries}, in {focus} teams working on {domain}.",
    "So far I have worked in {industries} on {domain}, mostly in {a_focus} team.",
    "I have spent my career in {industries}, doing {focus} work around {domain}.",
    "Most of my {focus} experience comes from {industries}, close to {domain}.",
)
#: Headline suffixes, when a headline gets one (placeholders as above; at
#: most two industries, joined with "&").
HEADLINE_DOMAIN_WANTED: tuple[str, ...] = (
    " · {industries}",
    " · open to {industries} roles",
    " · {focus} in {industries}",
)
HEADLINE_DOMAIN_PAST: tuple[str, ...] = (
    " · {industries}",
    " · {focus} in {industries}",
    " · {industries} background",
)
#: The domain line of a job description, after "We are hiring ...".
#: Placeholders: {focus}, {a_focus}, {domain}, {industry}, {company_poss}.
JOB_DOMAIN_LINES: tuple[str, ...] = (
    "You will be part of {a_focus} team working on {domain} for {company_poss}"
    " {industry} customers.",
    "The {focus} team works on {domain}, at the heart of {company_poss} {industry} business.",
    "Your {focus} work will shape {domain} across {company_poss} {industry} business.",
    "This is {a_focus} role close to {domain}, so an interest in {industry} helps.",
)


# --------------------------------------------------------------------------
# Cities and money.
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class City:
    """A real city; `cost_index` scales US-level salaries, `weight` its share of people."""

    name: str
    country_code: str
    latitude: float
    longitude: float
    timezone: str
    currency: str
    cost_index: float
    weight: float


CITIES: tuple[City, ...] = (
    # North America
    City("San Francisco", "US", 37.7749, -122.4194, "America/Los_Angeles", "USD", 1.35, 5.0),
    City("Seattle", "US", 47.6062, -122.3321, "America/Los_Angeles", "USD", 1.25, 3.0),
    City("Los Angeles", "US", 34.0522, -118.2437, "America/Los_Angeles", "USD", 1.15, 3.0),
    City("Austin", "US", 30.2672, -97.7431, "America/Chicago", "USD", 1.05, 2.0),
    City("Chicago", "US", 41.8781, -87.6298, "America/Chicago", "USD", 1.05, 3.0),
    City("Denver", "US", 39.7392, -104.9903, "America/Denver", "USD", 1.0, 2.0),
    City("Phoenix", "US", 33.4484, -112.0740, "America/Phoenix", "USD", 0.95, 1.0),
    City("New York", "US", 40.7128, -74.0060, "America/New_York", "USD", 1.3, 5.0),
    City("Boston", "US", 42.3601, -71.0589, "America/New_York", "USD", 1.2, 3.0),
    City("Atlanta", "US", 33.7490, -84.3880, "America/New_York", "USD", 1.0, 2.0),
    City("Miami", "US", 25.7617, -80.1918, "America/New_York", "USD", 1.0, 2.0),
    City("Honolulu", "US", 21.3069, -157.8583, "Pacific/Honolulu", "USD", 1.05, 0.5),
    City("Anchorage", "US", 61.2181, -149.9003, "America/Anchorage", "USD", 1.0, 0.3),
    City("Toronto", "CA", 43.6532, -79.3832, "America/Toronto", "CAD", 0.85, 3.0),
    City("Vancouver", "CA", 49.2827, -123.1207, "America/Vancouver", "CAD", 0.85, 2.0),
    City("Montreal", "CA", 45.5019, -73.5674, "America/Toronto", "CAD", 0.8, 1.5),
    City("St. John's", "CA", 47.5615, -52.7126, "America/St_Johns", "CAD", 0.75, 0.3),
    City("Mexico City", "MX", 19.4326, -99.1332, "America/Mexico_City", "MXN", 0.45, 2.0),
    City("Guadalajara", "MX", 20.6597, -103.3496, "America/Mexico_City", "MXN", 0.4, 1.0),
    # South America
    City("Bogotá", "CO", 4.7110, -74.0721, "America/Bogota", "COP", 0.35, 1.5),
    City("Lima", "PE", -12.0464, -77.0428, "America/Lima", "PEN", 0.35, 1.0),
    City("Santiago", "CL", -33.4489, -70.6693, "America/Santiago", "CLP", 0.45, 1.0),
    City(
        "Buenos Aires",
        "AR",
        -34.6037,
        -58.3816,
        "America/Argentina/Buenos_Aires",
        "ARS",
        0.35,
        1.5,
    ),
    City("São Paulo", "BR", -23.5505, -46.6333, "America/Sao_Paulo", "BRL", 0.45, 2.5),
    City("Rio de Janeiro", "BR", -22.9068, -43.1729, "America/Sao_Paulo", "BRL", 0.4, 1.0),
    City("Montevideo", "UY", -34.9011, -56.1645, "America/Montevideo", "UYU", 0.45, 0.5),
    # Europe
    City("London", "GB", 51.5074, -0.1278, "Europe/London", "GBP", 1.0, 5.0),
    City("Manchester", "GB", 53.4808, -2.2426, "Europe/London", "GBP", 0.8, 1.5),
    City("Edinburgh", "GB", 55.9533, -3.1883, "Europe/London", "GBP", 0.8, 1.0),
    City("Dublin", "IE", 53.3498, -6.2603, "Europe/Dublin", "EUR", 0.95, 2.0),
    City("Paris", "FR", 48.8566, 2.3522, "Europe/Paris", "EUR", 0.85, 3.0),
    City("Lyon", "FR", 45.7640, 4.8357, "Europe/Paris", "EUR", 0.7, 1.0),
    City("Berlin", "DE", 52.5200, 13.4050, "Europe/Berlin", "EUR", 0.85, 3.0),
    City("Munich", "DE", 48.1351, 11.5820, "Europe/Berlin", "EUR", 0.95, 2.0),
    City("Hamburg", "DE", 53.5511, 9.9937, "Europe/Berlin", "EUR", 0.85, 1.5),
    City("Amsterdam", "NL", 52.3676, 4.9041, "Europe/Amsterdam", "EUR", 0.9, 2.5),
    City("Brussels", "BE", 50.8503, 4.3517, "Europe/Brussels", "EUR", 0.85, 1.0),
    City("Zurich", "CH", 47.3769, 8.5417, "Europe/Zurich", "CHF", 1.3, 1.5),
    City("Vienna", "AT", 48.2082, 16.3738, "Europe/Vienna", "EUR", 0.8, 1.0),
    City("Madrid", "ES", 40.4168, -3.7038, "Europe/Madrid", "EUR", 0.65, 2.0),
    City("Barcelona", "ES", 41.3874, 2.1686, "Europe/Madrid", "EUR", 0.65, 2.0),
    City("Lisbon", "PT", 38.7223, -9.1393, "Europe/Lisbon", "EUR", 0.55, 1.5),
    City("Milan", "IT", 45.4642, 9.1900, "Europe/Rome", "EUR", 0.7, 1.5),
    City("Stockholm", "SE", 59.3293, 18.0686, "Europe/Stockholm", "SEK", 0.85, 1.5),
    City("Copenhagen", "DK", 55.6761, 12.5683, "Europe/Copenhagen", "DKK", 0.95, 1.0),
    City("Oslo", "NO", 59.9139, 10.7522, "Europe/Oslo", "NOK", 0.95, 1.0),
    City("Helsinki", "FI", 60.1699, 24.9384, "Europe/Helsinki", "EUR", 0.8, 1.0),
    City("Tallinn", "EE", 59.4370, 24.7536, "Europe/Tallinn", "EUR", 0.6, 0.5),
    City("Warsaw", "PL", 52.2297, 21.0122, "Europe/Warsaw", "PLN", 0.5, 2.0),
    City("Kraków", "PL", 50.0647, 19.9450, "Europe/Warsaw", "PLN", 0.45, 1.0),
    City("Prague", "CZ", 50.0755, 14.4378, "Europe/Prague", "CZK", 0.5, 1.0),
    City("Budapest", "HU", 47.4979, 19.0402, "Europe/Budapest", "HUF", 0.45, 1.0),
    City("Bucharest", "RO", 44.4268, 26.1025, "Europe/Bucharest", "RON", 0.4, 1.0),
    City("Athens", "GR", 37.9838, 23.7275, "Europe/Athens", "EUR", 0.5, 0.8),
    City("Istanbul", "TR", 41.0082, 28.9784, "Europe/Istanbul", "TRY", 0.35, 1.5),
    # Middle East and Asia
    City("Dubai", "AE", 25.2048, 55.2708, "Asia/Dubai", "AED", 0.9, 1.5),
    City("Tel Aviv", "IL", 32.0853, 34.7818, "Asia/Jerusalem", "ILS", 1.0, 1.5),
    City("Karachi", "PK", 24.8607, 67.0011, "Asia/Karachi", "PKR", 0.15, 0.5),
    City("Bengaluru", "IN", 12.9716, 77.5946, "Asia/Kolkata", "INR", 0.3, 3.0),
    City("Mumbai", "IN", 19.0760, 72.8777, "Asia/Kolkata", "INR", 0.3, 2.0),
    City("New Delhi", "IN", 28.6139, 77.2090, "Asia/Kolkata", "INR", 0.28, 2.0),
    City("Hyderabad", "IN", 17.3850, 78.4867, "Asia/Kolkata", "INR", 0.28, 1.5),
    City("Kathmandu", "NP", 27.7172, 85.3240, "Asia/Kathmandu", "NPR", 0.15, 0.5),
    City("Dhaka", "BD", 23.8103, 90.4125, "Asia/Dhaka", "BDT", 0.15, 0.5),
    City("Bangkok", "TH", 13.7563, 100.5018, "Asia/Bangkok", "THB", 0.35, 1.0),
    City("Ho Chi Minh City", "VN", 10.8231, 106.6297, "Asia/Ho_Chi_Minh", "VND", 0.25, 1.0),
    City("Kuala Lumpur", "MY", 3.1390, 101.6869, "Asia/Kuala_Lumpur", "MYR", 0.35, 1.0),
    City("Singapore", "SG", 1.3521, 103.8198, "Asia/Singapore", "SGD", 1.0, 2.5),
    City("Jakarta", "ID", -6.2088, 106.8456, "Asia/Jakarta", "IDR", 0.3, 1.0),
    City("Manila", "PH", 14.5995, 120.9842, "Asia/Manila", "PHP", 0.25, 1.0),
    City("Hong Kong", "HK", 22.3193, 114.1694, "Asia/Hong_Kong", "HKD", 1.0, 1.5),
    City("Shanghai", "CN", 31.2304, 121.4737, "Asia/Shanghai", "CNY", 0.55, 1.5),
    City("Shenzhen", "CN", 22.5431, 114.0579, "Asia/Shanghai", "CNY", 0.55, 1.0),
    City("Taipei", "TW", 25.0330, 121.5654, "Asia/Taipei", "TWD", 0.55, 1.0),
    City("Seoul", "KR", 37.5665, 126.9780, "Asia/Seoul", "KRW", 0.7, 1.5),
    City("Tokyo", "JP", 35.6762, 139.6503, "Asia/Tokyo", "JPY", 0.8, 2.5),
    City("Osaka", "JP", 34.6937, 135.5023, "Asia/Tokyo", "JPY", 0.7, 0.8),
    # Africa
    City("Lagos", "NG", 6.5244, 3.3792, "Africa/Lagos", "NGN", 0.2, 1.0),
    City("Accra", "GH", 5.6037, -0.1870, "Africa/Accra", "GHS", 0.2, 0.5),
    City("Nairobi", "KE", -1.2921, 36.8219, "Africa/Nairobi", "KES", 0.2, 1.0),
    City("Cairo", "EG", 30.0444, 31.2357, "Africa/Cairo", "EGP", 0.15, 1.0),
    City("Casablanca", "MA", 33.5731, -7.5898, "Africa/Casablanca", "MAD", 0.25, 0.5),
    City("Johannesburg", "ZA", -26.2041, 28.0473, "Africa/Johannesburg", "ZAR", 0.4, 1.0),
    City("Cape Town", "ZA", -33.9249, 18.4241, "Africa/Johannesburg", "ZAR", 0.4, 1.0),
    # Oceania
    City("Sydney", "AU", -33.8688, 151.2093, "Australia/Sydney", "AUD", 0.95, 2.0),
    City("Melbourne", "AU", -37.8136, 144.9631, "Australia/Melbourne", "AUD", 0.9, 1.5),
    City("Brisbane", "AU", -27.4698, 153.0251, "Australia/Brisbane", "AUD", 0.85, 0.8),
    City("Adelaide", "AU", -34.9285, 138.6007, "Australia/Adelaide", "AUD", 0.8, 0.5),
    City("Perth", "AU", -31.9505, 115.8605, "Australia/Perth", "AUD", 0.85, 0.5),
    City("Auckland", "NZ", -36.8485, 174.7633, "Pacific/Auckland", "NZD", 0.8, 1.0),
    City("Wellington", "NZ", -41.2866, 174.7756, "Pacific/Auckland", "NZD", 0.75, 0.5),
)

#: Units of each currency per US dollar: a fixed, approximate table (late
#: 2025) so conversions are reproducible. Good enough to rank salaries across
#: currencies; not for payroll.
FX_PER_USD: Mapping[str, float] = MappingProxyType(
    {
        "USD": 1.0, "CAD": 1.37, "MXN": 18.0, "COP": 4_100.0, "PEN": 3.75, "CLP": 940.0,
        "ARS": 1_000.0, "BRL": 5.5, "UYU": 40.0, "GBP": 0.79, "EUR": 0.92, "CHF": 0.88,
        "SEK": 10.6, "DKK": 6.9, "NOK": 10.8, "PLN": 4.0, "CZK": 23.3, "HUF": 360.0,
        "RON": 4.6, "TRY": 34.0, "AED": 3.67, "ILS": 3.7, "PKR": 280.0, "INR": 84.0,
        "NPR": 134.0, "BDT": 120.0, "THB": 34.0, "VND": 25_000.0, "MYR": 4.5,
        "SGD": 1.34, "IDR": 15_800.0, "PHP": 57.0, "HKD": 7.8, "CNY": 7.2, "TWD": 32.0,
        "KRW": 1_380.0, "JPY": 150.0, "NGN": 1_550.0, "GHS": 15.0, "KES": 129.0,
        "EGP": 49.0, "MAD": 9.9, "ZAR": 18.2, "AUD": 1.52, "NZD": 1.67,
    }
)  # fmt: skip

#: Fixed-offset zones, which the schema accepts besides IANA names; a few
#: location-less profiles carry one so consumers handle both forms.
FIXED_UTC_OFFSETS: tuple[str, ...] = (
    "-08:00", "-05:00", "-03:00", "+00:00", "+01:00", "+02:00", "+05:30", "+05:45",
    "+08:00", "+09:30", "+10:00", "+12:45",
)  # fmt: skip


# --------------------------------------------------------------------------
# Companies.
# --------------------------------------------------------------------------

COMPANY_NAME_PREFIXES: tuple[str, ...] = (
    "Blue", "North", "Silver", "Bright", "Clear", "Red", "Green", "Swift", "True", "Iron",
    "Sun", "Star", "Cloud", "River", "Stone", "Oak", "Pine", "Maple", "Cedar", "Golden",
    "Quiet", "Bold", "Open", "Deep", "High", "Far", "Next", "Nova", "Atlas", "Polar",
    "Coral", "Amber", "Lumen", "Vector", "Orbit", "Summit", "Harbor", "Cobalt", "Crimson",
    "Evergreen", "Granite", "Willow", "Falcon", "Meridian", "Horizon", "Beacon", "Copper",
    "Jade", "Onyx", "Sterling", "Tidal", "Urban", "Velvet", "Wild", "Zephyr", "Arctic",
    "Aurora", "Bluebird", "Crest", "Indigo",
)  # fmt: skip
COMPANY_NAME_ROOTS: tuple[str, ...] = (
    "Peak", "Forge", "Field", "Bridge", "Wave", "Path", "Point", "Leaf", "Light", "Stream",
    "Gate", "Works", "Yard", "Ridge", "Rock", "Fern", "Wind", "Mill", "Spring", "Grove",
    "Port", "Line", "Craft", "Nest", "Vale", "Shore", "Loop", "Spark", "Root", "Hive",
    "Stack", "Signal", "Harvest", "Anchor", "Compass", "Lantern", "Arrow", "Canopy",
    "Current", "Foundry", "Haven", "Keystone", "Meadow", "Pillar", "Quarry", "Saddle",
    "Thread", "Tower", "Trail", "Vista",
)  # fmt: skip
INDUSTRY_NAME_SUFFIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "software": ("Labs", "Software", "Systems", "Technologies"),
        "fintech": ("Pay", "Money", "Financial", "Ledger"),
        "finance": ("Capital", "Partners", "Investments", "Bank"),
        "healthcare": ("Health", "Care", "Medical", "Clinics"),
        "biotech": ("Bio", "Therapeutics", "Biosciences", "Genomics"),
        "ecommerce": ("Commerce", "Market", "Shop", "Direct"),
        "retail": ("Stores", "Retail", "Goods", "Outfitters"),
        "media": ("Media", "Studios", "Publishing", "News"),
        "gaming": ("Games", "Interactive", "Play", "Studios"),
        "education": ("Learning", "Academy", "Education", "Schools"),
        "manufacturing": ("Industries", "Manufacturing", "Components", "Machines"),
        "energy": ("Energy", "Power", "Renewables", "Grid"),
        "logistics": ("Logistics", "Freight", "Shipping", "Transport"),
        "consulting": ("Consulting", "Advisory", "Group", "Associates"),
        "government": ("Agency", "Services", "Authority", "Institute"),
        "nonprofit": ("Foundation", "Trust", "Alliance", "Initiative"),
    }
)
#: Appended when a generated name is already taken.
COMPANY_NAME_DISAMBIGUATORS: tuple[str, ...] = (
    "Group", "Holdings", "Collective", "International", "Partners", "Ventures", "Global",
    "Company", "Co", "Works", "Europe", "Americas", "Asia", "Pacific", "Digital", "One",
)  # fmt: skip

COMPANY_VALUES: tuple[str, ...] = (
    "ownership", "customer obsession", "bias for action", "radical candor", "transparency",
    "craftsmanship", "curiosity", "kindness", "humility", "inclusion", "sustainability",
    "learning every day", "deliver results", "think big", "keep it simple", "move fast",
    "quality first", "integrity", "trust by default", "data-driven decisions",
    "work-life balance", "teamwork", "write it down", "default to open", "be frugal",
    "celebrate wins", "long-term thinking", "respect", "accountability", "diversity",
    "innovation", "patient safety", "do the right thing", "earn trust",
    "disagree and commit", "continuous improvement", "community", "empathy",
    "high standards", "have fun",
)  # fmt: skip
COMPANY_TAGLINES: tuple[str, ...] = (
    "We build {industry} products that people rely on every day.",
    "We help {industry} teams work faster with less friction.",
    "Our mission is to make {industry} simpler, fairer and more accessible.",
    "We are rethinking how {industry} works, one customer at a time.",
    "Thousands of customers trust us with the parts of {industry} they cannot get wrong.",
)

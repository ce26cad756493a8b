"""Contains all the data models used in inputs/outputs"""

from .count_mode import CountMode
from .export_format import ExportFormat
from .field_error import FieldError
from .grade import Grade
from .health_status import HealthStatus
from .problem import Problem
from .scope import Scope
from .student import Student
from .student_create import StudentCreate
from .student_page import StudentPage
from .student_patch import StudentPatch
from .student_replace import StudentReplace
from .student_sort import StudentSort
from .token import Token
from .token_create import TokenCreate
from .token_created import TokenCreated
from .token_list import TokenList

__all__ = (
    "CountMode",
    "ExportFormat",
    "FieldError",
    "Grade",
    "HealthStatus",
    "Problem",
    "Scope",
    "Student",
    "StudentCreate",
    "StudentPage",
    "StudentPatch",
    "StudentReplace",
    "StudentSort",
    "Token",
    "TokenCreate",
    "TokenCreated",
    "TokenList",
)

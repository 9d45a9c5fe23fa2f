"""The BiLSTM distilled from the recipe (``--distill-from``) beside the recipe's own parts
(research log, sessions 23 and 24: a student of the whole recipe, ``--distill-part model``, or
of its BiLSTM alone, ``--distill-part bilstm``).

Each pair is a recipe run (the teacher) and the student run trained from it. On validation
(test printed for the record, never used to choose): each BiLSTM alone; the recipe's average;
the student's BiLSTM with the recipe's NB-LR; the three parts (teacher BiLSTM, NB-LR, student
BiLSTM) on a 0.05 simplex grid by validation log-loss; the two- and three-part averages scored by
10-fold cross-validation on validation.

    cd benchmarks/research && PYTHONPATH=../.. python distillation_third_part.py --dataset imdb \\
        --pairs runs/imdb-1337:runs/imdb-student-1337
"""

from __future__ import annotations

from syllable_third_part import compare_pairs

if __name__ == "__main__":
    compare_pairs(__doc__, recipe_name="teacher", other_name="student", output_stem="distillation_third_part")

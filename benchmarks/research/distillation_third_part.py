"""The BiLSTM distilled from the recipe (``--distill-from``) beside the recipe's own parts
(research log, session 23).

Each pair is a recipe run (the teacher) and the student run trained from it. On validation
(test printed for the record, never used to choose): each BiLSTM alone; the recipe's average;
the student's BiLSTM with the recipe's NB-LR; the three parts (teacher BiLSTM, NB-LR, student
BiLSTM) on a 0.05 simplex grid by validation log-loss; the two- and three-part averages scored by
10-fold cross-validation on validation.

    cd benchmarks/research && PYTHONPATH=../.. python distillation_third_part.py --dataset imdb \\
        --pairs runs/imdb-1337:runs/imdb-student-1337
"""

from __future__ import annotations

import argparse
import json

from common import RESULTS
from mixed_parts_ensemble import accuracy, held_out, parts
from syllable_third_part import cross_validated, pct, two_part_weights
from third_part_ensemble import best_weights, combine

from bilstm_attention.fileio import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--pairs", nargs="+", required=True, help="TEACHER_RUN:STUDENT_RUN, one per seed")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    _, texts, labels = held_out(args.dataset)
    y, y_test = labels["validation"], labels["test"]
    rows = []
    for pair in args.pairs:
        teacher_run, student_run = pair.split(":")
        teacher, student = parts(teacher_run, texts), parts(student_run, texts)
        (bilstm, nblr), (distilled, _) = teacher["validation"], student["validation"]
        (bilstm_t, nblr_t), (distilled_t, _) = teacher["test"], student["test"]
        recipe, student_two = two_part_weights([bilstm, nblr], y), two_part_weights([distilled, nblr], y)
        three = best_weights([bilstm, nblr, distilled], y)
        row = {
            "teacher_run": teacher_run,
            "student_run": student_run,
            "validation": {
                "teacher_bilstm": pct(accuracy(bilstm, y)),
                "student_bilstm": pct(accuracy(distilled, y)),
                "nblr": pct(accuracy(nblr, y)),
                "recipe_average": pct(accuracy(combine(recipe, [bilstm, nblr]), y)),
                "student_bilstm_with_nblr": pct(accuracy(combine(student_two, [distilled, nblr]), y)),
                "three_parts": pct(accuracy(combine(three, [bilstm, nblr, distilled]), y)),
                "recipe_average_cv": pct(cross_validated(two_part_weights, [bilstm, nblr], y, args.folds)),
                "student_bilstm_with_nblr_cv": pct(cross_validated(two_part_weights, [distilled, nblr], y, args.folds)),
                "three_parts_cv": pct(cross_validated(best_weights, [bilstm, nblr, distilled], y, args.folds)),
            },
            "weights": {"recipe": recipe, "student_with_nblr": student_two, "three_parts": three},
            "test_not_used": {
                "teacher_bilstm": pct(accuracy(bilstm_t, y_test)),
                "student_bilstm": pct(accuracy(distilled_t, y_test)),
                "recipe_average": pct(accuracy(combine(recipe, [bilstm_t, nblr_t]), y_test)),
                "student_bilstm_with_nblr": pct(accuracy(combine(student_two, [distilled_t, nblr_t]), y_test)),
                "three_parts": pct(accuracy(combine(three, [bilstm_t, nblr_t, distilled_t]), y_test)),
            },
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    output = args.output or RESULTS / f"distillation_third_part-{args.dataset}.json"
    write_json(output, rows)
    print(f"saved {output}")


if __name__ == "__main__":
    main()

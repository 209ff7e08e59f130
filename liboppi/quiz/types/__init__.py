"""Question types, one module each; ``liboppi.quiz.registry`` lists them by key."""

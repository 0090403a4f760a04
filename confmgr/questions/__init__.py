"""Questions from the points to the presenters (vướng mắc): raised, triaged, answered,
published as a digest per topic."""

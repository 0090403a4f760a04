"""iCalendar feeds of published agendas."""

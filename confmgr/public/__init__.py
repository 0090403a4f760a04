"""Pages anyone can read: the published conferences and their agendas."""

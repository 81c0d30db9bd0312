"""The start page («Кабинет»): each role's next steps after login, one section per role a person has."""

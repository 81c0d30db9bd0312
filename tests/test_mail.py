"""Letters read back exactly as written, whatever the length of a Russian subject."""

from email import message_from_bytes, policy

from catalogue.mail import mail_folder, send_mail


def test_a_long_russian_subject_keeps_every_space(app):
    subject = "Профориентация Приангарья: пора отправить отчёт о проведении проекта «Энергия воды» в 7 «Б» классе"
    with app.app_context():
        send_mail("teacher@example.ru", subject, "Здравствуйте, Марина Сергеевна!\n\n" + "Текст письма. " * 40)
        (letter,) = mail_folder().glob("*.eml")
        message = message_from_bytes(letter.read_bytes(), policy=policy.default)
    assert message["Subject"] == subject
    assert message.get_content().startswith("Здравствуйте, Марина Сергеевна!")
    assert all(len(line) <= 998 for line in letter.read_bytes().splitlines())

//! Request field extraction on the kinds of mail beneficiaries really send:
//! whole requests in each language and the tables of shapes each scanner
//! must read.

mod cases;

use super::attributes::match_attribute;
use super::labels::Lang;
use super::lines::{is_signoff, strip_bullet};
use super::service_names::inline_tags;
use super::text::{fold, problem, strip_trailing_punct};
use super::*;
use crate::domain::{Environment, ProblemCode};
use crate::understand::idno;

fn run(text: &str) -> Extracted {
    extract(text, &Options::default())
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn codes(e: &Extracted) -> Vec<(ProblemCode, &str)> {
    e.problems
        .iter()
        .map(|p| (p.code, p.value.as_deref().unwrap_or("")))
        .collect()
}

#[test]
fn romanian_request_from_the_procedure_template() {
    let e = run("Solicitare de integrare cu MPass\n\
        Bună ziua,\n\n\
        Prin prezenta, solicităm integrarea sistemului nostru cu serviciul MPass.\n\n\
        • Denumirea instituției sau companiei, care solicită integrarea: Primăria orașului Ialoveni\n\
        • IDNO-ul instituției sau a companiei: 1008600038413\n\
        • Denumirea sistemului/produsului informațional: Registrul electronic al cererilor cetățenilor\n\
        • Descrierea succintă a sistemului/produsului informațional: Sistemul permite depunerea online a cererilor și urmărirea statutului acestora.\n\
        • Alte informații/date relevante: -\n\n\
        Cu stimă,\n\
        Ion Popescu\n\
        Primar, Primăria orașului Ialoveni\n\
        tel. 0268 2 22 22\n");
    let r = &e.request;
    assert_eq!(r.institution, s("Primăria orașului Ialoveni"));
    assert_eq!(r.idno, s("1008600038413"));
    assert_eq!(r.idno_valid, Some(true));
    assert_eq!(
        r.system_name,
        s("Registrul electronic al cererilor cetățenilor")
    );
    assert_eq!(
        r.system_description,
        s("Sistemul permite depunerea online a cererilor și urmărirea statutului acestora")
    );
    assert_eq!(r.environment, None);
    assert_eq!(r.service_name_ro, None);
    assert!(r.ip_addresses.is_empty() && r.attributes.is_empty());
    assert_eq!(e.problems, vec![]);
}

#[test]
fn romanian_without_diacritics_sloppy_and_wrapped() {
    let e = run("Buna ziua,\n\
        DENUMIREA INSTITUTIEI :  Agentia Servicii Publice\n\
        IDNO :1003600005148\n\
        Denumirea sistemului - Sistemul informational „e-Cerere”\n\
        Descriere:\n\
        Sistemul gestioneaza cererile de eliberare a actelor de identitate si\n\
        permite plata online a serviciilor.\n\
        Multumesc,\n\
        Vasile Rusu\n\
        Sef sectie IT\n");
    let r = &e.request;
    assert_eq!(r.institution, s("Agentia Servicii Publice"));
    assert_eq!(r.idno, s("1003600005148"));
    assert_eq!(r.idno_valid, Some(true));
    assert_eq!(r.system_name, s("Sistemul informational „e-Cerere”"));
    assert_eq!(
        r.system_description,
        s(
            "Sistemul gestioneaza cererile de eliberare a actelor de identitate si permite plata online a serviciilor"
        )
    );
    assert_eq!(e.problems, vec![]);
}

#[test]
fn cedillas_value_on_next_line_and_quotes() {
    let e = run("Denumirea instituţiei:\n\
        \n\
        Întreprinderea de Stat „Centrul de Telecomunicaţii Speciale”\n\
        Cod fiscal\n\
        1002600012347\n\
        Sistemul informaţional: „e-Arhivă”\n\
        Descrierea succintă: Arhivarea electronică a documentelor instituţiei.\n");
    let r = &e.request;
    assert_eq!(
        r.institution,
        s("Întreprinderea de Stat „Centrul de Telecomunicaţii Speciale”")
    );
    assert_eq!(r.idno, s("1002600012347"));
    assert_eq!(r.idno_valid, Some(true));
    assert_eq!(r.system_name, s("e-Arhivă"));
    assert_eq!(
        r.system_description,
        s("Arhivarea electronică a documentelor instituţiei")
    );
}

#[test]
fn russian_request() {
    let e = run("Добрый день!\n\
        Просим подключить нашу информационную систему к MPass.\n\
        Наименование учреждения/организации/компании: Министерство финансов Республики Молдова\n\
        Код фискальный: 1003600011118\n\
        Наименование информационной системы: «Электронный бюджет»\n\
        Описание: Система планирования и исполнения государственного бюджета.\n\
        С уважением,\n\
        Иван Иванов\n\
        Министерство финансов\n");
    let r = &e.request;
    assert_eq!(r.institution, s("Министерство финансов Республики Молдова"));
    assert_eq!(r.idno, s("1003600011118"));
    assert_eq!(r.system_name, s("Электронный бюджет"));
    assert_eq!(
        r.system_description,
        s("Система планирования и исполнения государственного бюджета")
    );
}

#[test]
fn english_request_institution_from_prose_signature_not_swallowed() {
    let e = run("Integration request MSign\n\
        Dear AGE team,\n\
        We are writing on behalf of FinTech Solutions SRL to request integration with MSign.\n\
        Fiscal code: 1008600038413\n\
        System name: PayDesk\n\
        Short description: Online invoicing platform for small businesses\n\
        Regards,\n\
        John Smith\n\
        CTO\n");
    let r = &e.request;
    assert_eq!(r.institution, s("FinTech Solutions SRL"));
    assert_eq!(r.idno, s("1008600038413"));
    assert_eq!(r.system_name, s("PayDesk"));
    assert_eq!(
        r.system_description,
        s("Online invoicing platform for small businesses")
    );
}

#[test]
fn mixed_romanian_and_russian() {
    let e = run("Buna ziua / Добрый день,\n\
        Denumirea companiei / Название организации: MedTech SRL\n\
        IDNO / ИДНО: 1013600044445\n\
        Название системы: MedCard\n\
        Descrierea sistemului: Fișa medicală electronică a pacientului\n");
    let r = &e.request;
    assert_eq!(r.institution, s("MedTech SRL"));
    assert_eq!(r.idno, s("1013600044445"));
    assert_eq!(r.system_name, s("MedCard"));
    assert_eq!(
        r.system_description,
        s("Fișa medicală electronică a pacientului")
    );
}

#[test]
fn full_mpass_test_registration() {
    let e = run("Înregistrare serviciu MPass pe mediul de test\n\
        Bună ziua,\n\
        Vă rugăm să înregistrați serviciul nostru pe mediul de test MPass.\n\n\
        Denumirea serviciului:\n\
        RO: Registrul cererilor online\n\
        RU: Реестр онлайн-заявлений\n\
        EN: Online Applications Register\n\n\
        Descrierea serviciului: Permite cetățenilor să depună cereri online către primărie.\n\n\
        Adresa unde se transmite LogoutRequest: https://cereri.ialoveni.md/mpass/logout\n\
        Adresa unde se transmite LogoutResponse: https://cereri.ialoveni.md/mpass/logout-response\n\n\
        Atributele solicitate:\n\
        - FirstName\n\
        - LastName\n\
        - Email\n\
        - IDNP\n\
        - BirthDate\n\n\
        Certificatul (partea publică) este atașat.\n\n\
        Cu stimă,\n\
        Ana Ciobanu\n");
    let r = &e.request;
    assert_eq!(r.environment, Some(Environment::Test));
    assert_eq!(r.service_name_ro, s("Registrul cererilor online"));
    assert_eq!(r.service_name_ru, s("Реестр онлайн-заявлений"));
    assert_eq!(r.service_name_en, s("Online Applications Register"));
    assert_eq!(
        r.service_description,
        s("Permite cetățenilor să depună cereri online către primărie")
    );
    assert_eq!(r.system_description, None);
    assert_eq!(
        r.logout_request_url,
        s("https://cereri.ialoveni.md/mpass/logout")
    );
    assert_eq!(
        r.logout_response_url,
        s("https://cereri.ialoveni.md/mpass/logout-response")
    );
    assert_eq!(
        r.attributes,
        vec![
            "FirstName",
            "LastName",
            "EmailAddress",
            "NameIdentifier",
            "BirthDate"
        ]
    );
    assert_eq!(
        e.problems,
        vec![
            problem(ProblemCode::AttributeUnknown, "Email", Some("EmailAddress")),
            problem(
                ProblemCode::AttributeUnknown,
                "IDNP",
                Some("NameIdentifier")
            ),
        ]
    );
}

#[test]
fn full_msign_production_registration() {
    let e = run("Bună ziua,\n\
        Solicităm înregistrarea serviciului pe mediul de producție MSign.\n\
        1. Denumirea serviciului (ro/ru/en): Semnarea contractelor / Подписание договоров / Contract signing\n\
        2. Descrierea într-o frază: Semnarea electronică a contractelor de achiziții.\n\
        3. Adresele IP ale serviciului: 193.226.64.10, 192.168.1.10, 2a02:2f0e:1:2::10\n\
        4. Tipul semnatarului: persoane fizice și juridice\n\
        --\n\
        Departamentul IT\n");
    let r = &e.request;
    assert_eq!(r.environment, Some(Environment::Production));
    assert_eq!(r.service_name_ro, s("Semnarea contractelor"));
    assert_eq!(r.service_name_ru, s("Подписание договоров"));
    assert_eq!(r.service_name_en, s("Contract signing"));
    assert_eq!(
        r.service_description,
        s("Semnarea electronică a contractelor de achiziții")
    );
    assert_eq!(
        r.ip_addresses,
        vec!["193.226.64.10", "192.168.1.10", "2a02:2f0e:1:2::10"]
    );
    assert_eq!(r.signer_type, Some(SignerType::Both));
    assert_eq!(codes(&e), vec![(ProblemCode::IpNotPublic, "192.168.1.10")]);
}

#[test]
fn allowed_private_ranges_are_not_problems() {
    let options = Options {
        allowed_private_ranges: vec!["10.20.0.0/16".into(), "fd00::/8".into()],
    };
    let e = extract("IP: 10.20.5.1, 10.21.0.1, fd00::5, 8.8.8.8", &options);
    assert_eq!(
        e.request.ip_addresses,
        vec!["10.20.5.1", "10.21.0.1", "fd00::5", "8.8.8.8"]
    );
    assert_eq!(codes(&e), vec![(ProblemCode::IpNotPublic, "10.21.0.1")]);
}

/// What the rules may write as an allowed range: a bare address is one
/// host, spaces are tolerated, a host part is masked off.
#[test]
fn allowed_range_syntax() {
    for ok in [
        "10.0.0.7",
        " 10.0.0.0 / 8 ",
        "fd00::/8",
        "::1",
        "10.1.2.3/16",
    ] {
        assert!(parse_range(ok).is_some(), "{ok}");
    }
    for bad in [
        "10.0.0.0/33",
        "fd00::/129",
        "10.0.0/8",
        "/8",
        "10.0.0.0/",
        "x",
    ] {
        assert!(parse_range(bad).is_none(), "{bad}");
    }
    let options = Options {
        allowed_private_ranges: vec!["10.20.30.40/16".into(), "192.168.1.10".into()],
    };
    let e = extract("IP: 10.20.5.1, 192.168.1.10, 192.168.1.11", &options);
    assert_eq!(codes(&e), vec![(ProblemCode::IpNotPublic, "192.168.1.11")]);
}

#[test]
fn ip_table() {
    for (text, ips, flagged) in cases::ips() {
        let e = run(text);
        assert_eq!(e.request.ip_addresses, ips, "{text}");
        let got: Vec<&str> = e
            .problems
            .iter()
            .filter_map(|p| p.value.as_deref())
            .collect();
        assert_eq!(got, flagged, "{text}");
    }
}

#[test]
fn idno_table() {
    for (text, idno, valid, problems) in cases::idnos() {
        let e = run(text);
        assert_eq!(e.request.idno, idno, "{text}");
        assert_eq!(e.request.idno_valid, valid, "{text}");
        assert_eq!(codes(&e), problems, "{text}");
    }
}

#[test]
fn logout_url_table() {
    for (text, req, resp, problems) in cases::logout_urls() {
        let e = run(text);
        assert_eq!(e.request.logout_request_url, req, "{text}");
        assert_eq!(e.request.logout_response_url, resp, "{text}");
        assert_eq!(codes(&e), problems, "{text}");
    }
}

#[test]
fn attribute_lists() {
    let e =
        run("Atributele necesare: NameIdentifier, first name; Last_Name, EmailAdress, Cetățenie");
    assert_eq!(
        e.request.attributes,
        vec!["NameIdentifier", "FirstName", "LastName", "EmailAddress"]
    );
    assert_eq!(
        e.problems,
        vec![
            problem(
                ProblemCode::AttributeUnknown,
                "EmailAdress",
                Some("EmailAddress")
            ),
            Problem {
                code: ProblemCode::AttributeUnknown,
                value: s("Cetățenie"),
                suggestion: None
            },
        ]
    );

    let e = run("Атрибуты:\n1. Имя\n2. Фамилия\n3. Дата рождения\n4. IDNO\n\nСпасибо!");
    assert_eq!(
        e.request.attributes,
        vec!["FirstName", "LastName", "BirthDate", "IDNO"]
    );
    assert!(e.problems.is_empty(), "{:?}", e.problems);

    let e = run(
        "Requested attributes:\n* FirstName (prenumele)\n* Prenume - LastName\n* Telefon\n* CompanyName\nThank you",
    );
    assert_eq!(
        e.request.attributes,
        vec!["FirstName", "LastName", "MobilePhone", "CompanyName"]
    );
    assert!(e.problems.is_empty(), "{:?}", e.problems);

    // Attribute names in prose, without an attributes label, are not a list.
    let e = run("Avem nevoie de FirstName si Email pentru profil.");
    assert!(e.request.attributes.is_empty() && e.problems.is_empty());

    // The list ends at prose and at the next label.
    let e = run("Atribute:\nFirstName\nLastName\nLogoutRequest: https://a.md/lo\nGender");
    assert_eq!(e.request.attributes, vec!["FirstName", "LastName"]);
    let e = run(
        "Atributele returnate după autentificare (conform ghidului de integrare):\nNume, prenume, IDNP, data nașterii",
    );
    // The beneficiary's words count as the names they stand for; only the
    // name-like "IDNP" is said back with what it was read as.
    assert_eq!(
        e.request.attributes,
        vec!["LastName", "FirstName", "NameIdentifier", "BirthDate"]
    );
    let suggestions: Vec<_> = e
        .problems
        .iter()
        .map(|p| p.suggestion.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(suggestions, vec!["NameIdentifier"]);
}

#[test]
fn attribute_matching_table() {
    for (written, want) in cases::attribute_spellings() {
        assert_eq!(match_attribute(written), want, "{written}");
    }
}

#[test]
fn signer_type_table() {
    for (text, want) in cases::signer_types() {
        assert_eq!(run(text).request.signer_type, want, "{text}");
    }
}

#[test]
fn environment_table() {
    for (text, want) in cases::environments() {
        assert_eq!(run(text).request.environment, want, "{text}");
    }
}

#[test]
fn tables_from_outlook_and_documents() {
    let e = run("Denumirea instituției | Primăria satului Bubuieci |\n\
        IDNO | 1007601001234 |\n\
        Denumirea sistemului\tSIA Evidența Populației Locale\n\
        Descrierea succintă\tEvidența locuitorilor satului\n");
    let r = &e.request;
    assert_eq!(r.institution, s("Primăria satului Bubuieci"));
    assert_eq!(r.idno, s("1007601001234"));
    assert_eq!(r.idno_valid, Some(idno::is_valid("1007601001234")));
    assert_eq!(r.system_name, s("SIA Evidența Populației Locale"));
    assert_eq!(r.system_description, s("Evidența locuitorilor satului"));

    // A table turned into one cell per line (docx/odt extraction).
    let e = run(
        "Denumirea instituției\nAgenția Servicii Publice\nIDNO\n1003600005148\nDenumirea sistemului\nRegistrul de stat al populației\n",
    );
    let r = &e.request;
    assert_eq!(r.institution, s("Agenția Servicii Publice"));
    assert_eq!(r.idno, s("1003600005148"));
    assert_eq!(r.system_name, s("Registrul de stat al populației"));

    // Columns separated by runs of spaces.
    let e = run("Company name      Alfa Soft SRL\nSystem name       AlfaDocs");
    assert_eq!(e.request.institution, s("Alfa Soft SRL"));
    assert_eq!(e.request.system_name, s("AlfaDocs"));
}

#[test]
fn label_variants_table() {
    for (text, institution, system) in cases::label_variants() {
        let r = run(text).request;
        assert_eq!(r.institution, institution, "{text}");
        assert_eq!(r.system_name, system, "{text}");
    }
}

#[test]
fn institution_from_prose_table() {
    for (text, want) in cases::institutions_in_prose() {
        assert_eq!(run(text).request.institution, want, "{text}");
    }
}

#[test]
fn institution_in_signature_is_the_last_resort() {
    let e = run(
        "Bună ziua,\nVă transmitem cererea atașată.\nCu stimă,\nIon Popescu\nPrimăria or. Ialoveni\n",
    );
    assert_eq!(e.request.institution, s("Primăria or. Ialoveni"));
    let e = run("Vă scrie Alfa Soft SRL.\nCu stimă,\nIon\nPrimăria or. Ialoveni\n");
    assert_eq!(e.request.institution, s("Alfa Soft SRL"));
}

#[test]
fn service_names_in_many_shapes() {
    for (text, [ro, ru, en]) in cases::SERVICE_NAMES {
        let r = run(text).request;
        assert_eq!(r.service_name_ro.as_deref(), *ro, "{text}");
        assert_eq!(r.service_name_ru.as_deref(), *ru, "{text}");
        assert_eq!(r.service_name_en.as_deref(), *en, "{text}");
    }
}

#[test]
fn descriptions_follow_their_heading() {
    let e = run("Serviciul\nDenumire: Programări\nDescriere: Programarea online la medic\n");
    assert_eq!(e.request.service_name_ro, s("Programări"));
    assert_eq!(
        e.request.service_description,
        s("Programarea online la medic")
    );
    assert_eq!(e.request.system_description, None);
    let e = run("Serviciul: MPass\nDenumire: SIRSA");
    assert_eq!(e.request.service_name_ro, None);
    let e = run("Denumirea serviciului: Programări\nDescriere: Programarea online la medic\n");
    assert_eq!(
        e.request.service_description,
        s("Programarea online la medic")
    );
    assert_eq!(e.request.system_description, None);
    let e = run("Sistemul informațional:\nDenumire: SIRSA\nDescriere: Registrul sanitar\n");
    assert_eq!(e.request.system_name, s("SIRSA"));
    assert_eq!(e.request.system_description, s("Registrul sanitar"));
    let e = run("Описание услуги: Запись на приём\nService description: ignored, first wins");
    assert_eq!(e.request.service_description, s("Запись на приём"));
    // Contact details are not the institution's name.
    let e = run("Instituția\nDenumire: Primăria Hîncești\nPersoana de contact:\nNume: Ion Rusu\n");
    assert_eq!(e.request.institution, s("Primăria Hîncești"));
}

#[test]
fn signatures_do_not_leak_into_values() {
    for sig in [
        "--\nIon Popescu\nDirector",
        "Cu stimă,\nIon Popescu\nDirector",
        "Cu stima, Ion Popescu",
        "С уважением,\nИван Петров",
        "Regards,\nJohn",
        "Best regards\nJohn Smith, CTO",
        "Ion Popescu\nDirector",
    ] {
        let text = format!("Descrierea sistemului: Evidența contractelor de arendă.\n{sig}\n");
        let e = run(&text);
        assert_eq!(
            e.request.system_description,
            s("Evidența contractelor de arendă"),
            "{sig}"
        );
        let text = format!("Descriere:\nSistem pentru evidența contractelor de arendă\n{sig}\n");
        let e = run(&text);
        assert_eq!(
            e.request.system_description,
            s("Sistem pentru evidența contractelor de arendă"),
            "{sig}"
        );
    }
}

#[test]
fn values_are_cleaned_and_capped() {
    let e = run("Denumirea sistemului: «SIA Registrul»;\nDescriere: „Un sistem.”");
    assert_eq!(e.request.system_name, s("SIA Registrul"));
    assert_eq!(e.request.system_description, s("Un sistem"));
    let long = "x".repeat(500);
    let e = run(&format!("Descriere: {long}"));
    assert_eq!(
        e.request.system_description.map(|d| d.chars().count()),
        Some(MAX_CHARS)
    );
    let e = run("Denumirea sistemului: -\nDescriere: N/A");
    assert_eq!(e.request.system_name, None);
    assert_eq!(e.request.system_description, None);
    assert_eq!(
        run("Compania: Alfa S.R.L.").request.institution,
        s("Alfa S.R.L.")
    );
}

#[test]
fn nothing_is_invented() {
    for text in [
        "",
        "Bună ziua,\nVă mulțumim pentru răspuns.\nCu stimă,\nIon",
        "Vă transmitem acordul semnat.",
        "OK",
        "Denumirea instituției:\n\nIDNO:\n",
    ] {
        let e = run(text);
        assert_eq!(e.request, Request::default(), "{text}");
        assert!(e.problems.is_empty(), "{text}");
    }
}

#[test]
fn quoted_history_that_slipped_through_is_ignored() {
    let e = run(
        "Atașăm acordul.\nOn Mon, 2 Feb 2026, AGE <office@egov.md> wrote:\nIDNO: 1008600038413",
    );
    assert_eq!(e.request.idno, None);
}

#[test]
fn large_input_stays_linear() {
    // Keyword-dense garbage, as lines and as one line (PDF text often has
    // no line breaks): every scanner must stay linear, values capped.
    let mut big = String::new();
    for k in 0..3000 {
        big.push_str(&format!(
            "Linia {k}: Denumirea instituției: Primăria {k} AGENCY OFFICE Hall SRL 10.0.{}.1 \
             https://x.md/logout LogoutRequest IDNO 1008600038413 semnatari fizice Atribute: Email\n",
            k % 250
        ));
    }
    let one_line = big.replace('\n', " ");
    for text in [&big, &one_line] {
        let start = std::time::Instant::now();
        let e = run(text);
        assert_eq!(e.request.idno, s("1008600038413"));
        assert_eq!(e.request.ip_addresses.len(), 250);
        assert!(
            e.request
                .institution
                .is_some_and(|i| i.chars().count() <= MAX_CHARS)
        );
        // Generous even for an unoptimised build on a busy machine.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
    }
}

#[test]
fn helpers() {
    for (line, body, bulleted) in [
        ("• item", "item", true),
        ("- item", "item", true),
        ("-item", "-item", false),
        ("1. item", "item", true),
        ("2) item", "item", true),
        ("1.2. item", "item", true),
        ("a) item", "item", true),
        ("(3) item", "item", true),
        ("| cell | value |", "cell | value", false),
        ("1008600038413. item", "1008600038413. item", false),
        ("10.0.0.1 x", "10.0.0.1 x", false),
    ] {
        assert_eq!(strip_bullet(line), (body, bulleted), "{line}");
    }
    for (line, yes) in [
        ("--", true),
        ("-- ", true),
        ("Cu stimă,", true),
        ("Cu stima", true),
        ("С уважением,", true),
        ("Regards,", true),
        ("Best regards, John", true),
        ("Sent from my iPhone", true),
        (
            "Cu stimă pentru colaborarea noastră îndelungată și fructuoasă de-a lungul anilor",
            false,
        ),
        ("Descriere: test", false),
    ] {
        assert_eq!(is_signoff(line), yes, "{line}");
    }
    assert_eq!(
        inline_tags("RO: A; RU: Б, EN: C"),
        vec![
            (Lang::Ro, "A".into()),
            (Lang::Ru, "Б".into()),
            (Lang::En, "C".into())
        ]
    );
    assert_eq!(
        inline_tags("(ro) A (en) C"),
        vec![(Lang::Ro, "A".into()), (Lang::En, "C".into())]
    );
    assert!(inline_tags("Servicii en: gros").is_empty());
    assert_eq!(fold("ȘşȚţĂÂÎ Ёж"), "ssttaai еж");
}

/// 100,000 dots after a value: stripping them one by one must not
/// re-read the value each time.
#[test]
fn long_trailing_punctuation_is_stripped_in_one_pass() {
    let dots = ".".repeat(100_000);
    assert_eq!(strip_trailing_punct(&format!("Primăria{dots}")), "Primăria");
    assert_eq!(
        strip_trailing_punct("Î.S. \"Alfa\" S.R.L.,;"),
        "Î.S. \"Alfa\" S.R.L."
    );
    assert_eq!(
        strip_trailing_punct("Instituția Publică..."),
        "Instituția Publică"
    );
    let text = format!("Instituția: Primăria{dots}\nIDNO: 1003600005148");
    let out = extract(&text, &Options::default());
    assert_eq!(out.request.institution.as_deref(), Some("Primăria"));
}

#[test]
fn a_block_of_language_lines_names_the_service_after_any_prose() {
    let e = run(
        "RE: Регистрация услуги MSign – тестовая среда\nАдрес из прошлого письма – внутренний. \
         Ниже актуальные данные:\n\nRO – Semnarea contractelor\nRU – Подписание договоров\nEN – Signing of contracts\n",
    );
    assert_eq!(
        e.request.service_name_ro.as_deref(),
        Some("Semnarea contractelor")
    );
    assert_eq!(
        e.request.service_name_ru.as_deref(),
        Some("Подписание договоров")
    );
    assert_eq!(
        e.request.service_name_en.as_deref(),
        Some("Signing of contracts")
    );
}

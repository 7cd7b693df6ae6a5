from corpuskit.core.records import make_id


def test_same_record_same_id_every_time():
    rec = {"url": "http://a/1", "text": "第一版的内容"}
    assert make_id(dict(rec)) == make_id(dict(rec))
    # key order and other fields do not matter; the url and the content do
    assert make_id({"text": "第一版的内容", "lang": "zh", "url": "http://a/1"}) == make_id(rec)


def test_two_texts_from_one_url_get_different_ids():
    a = make_id({"url": "http://a/page", "text": "snapshot one"})
    b = make_id({"url": "http://a/page", "text": "snapshot two"})
    assert a != b
    # and the url still counts: the same text at two addresses is two records
    assert make_id({"url": "http://a/x", "text": "t"}) != make_id({"url": "http://a/y", "text": "t"})
    assert make_id({"url": "http://a", "html": "<p>1</p>"}) != make_id({"url": "http://a", "html": "<p>2</p>"})


def test_text_field_is_the_content_and_whole_record_fallback():
    assert make_id({"body": "x"}, text_field="body") != make_id({"body": "y"}, text_field="body")
    assert make_id({"n": 1}) != make_id({"n": 2})
    # integers beyond 64 bits (orjson cannot encode them) still give an id
    assert make_id({"n": 18446744073709551616}) != make_id({"n": 18446744073709551617})

